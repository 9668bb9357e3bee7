/**
 * Folds for a pairs file that brings none (or one): with a single fold, leave-one-fold-out has
 * nothing to leave out and picks the threshold on the very pairs it scores. A seeded k-fold split
 * takes its place, identity-disjoint where the file allows: pairs are grouped by the identities
 * they touch (an impostor pair links two), and whole groups go to folds.
 */
import { basename, dirname } from 'node:path';
import { xorshift } from './rng.ts';

export type PairsProtocol = 'leave-one-fold-out' | 'k-fold-identity-disjoint' | 'k-fold-pairs';

/** img/<Person>/<n>.jpg -> Person; a flat file name is its own identity. */
export const identityOfPath = (p: string): string => basename(dirname(p)) || p;

/**
 * Fold (1..k) per pair. Identity groups are connected components of "appears in one pair"; when
 * the largest holds more than half the pairs, folds of whole groups cannot be balanced and the
 * pairs are split at random instead (the protocol says which).
 */
export function assignFolds(pairs: { a: string; b: string }[], k = 10, seed = 7): { folds: number[]; protocol: PairsProtocol } {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const id = (p: string) => {
    const i = identityOfPath(p);
    if (!parent.has(i)) parent.set(i, i);
    return i;
  };
  for (const p of pairs) parent.set(find(id(p.a)), find(id(p.b)));
  const groups = new Map<string, number[]>();
  pairs.forEach((p, i) => {
    const g = find(id(p.a));
    groups.set(g, [...(groups.get(g) ?? []), i]);
  });
  const r = xorshift(seed);
  const folds = new Array<number>(pairs.length);
  const largest = Math.max(...[...groups.values()].map((g) => g.length));
  if (groups.size >= k && largest <= pairs.length / 2) {
    // Biggest groups first, each into the fold with the fewest pairs so far (ties at random).
    const load = new Array<number>(k).fill(0);
    const order = [...groups.values()].map((g) => ({ g, tie: r() })).sort((x, y) => y.g.length - x.g.length || x.tie - y.tie);
    for (const { g } of order) {
      const f = load.indexOf(Math.min(...load));
      load[f] += g.length;
      for (const i of g) folds[i] = f + 1;
    }
    return { folds, protocol: 'k-fold-identity-disjoint' };
  }
  const idx = pairs.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  idx.forEach((pi, n) => (folds[pi] = (n % k) + 1));
  return { folds, protocol: 'k-fold-pairs' };
}
