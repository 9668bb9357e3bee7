/**
 * Plain fp32 exhaustive search: the ground truth the fast gallery is tested and measured against.
 * Slow on purpose (one JS loop over every template); never used on the hot path.
 */
import type { GalleryMatch } from './gallery.ts';

export interface ReferenceTemplate {
  personId: string;
  embedding: ArrayLike<number>;
}

function normalized(v: ArrayLike<number>): Float64Array {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i] * v[i];
  const inv = 1 / Math.sqrt(ss);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}

/** Best template per person by exact cosine, best first; templateIndex counts per person in insertion order. */
export function referenceSearch(templates: ReferenceTemplate[], query: ArrayLike<number>, k: number): GalleryMatch[] {
  const q = normalized(query);
  const best = new Map<string, GalleryMatch>();
  const seen = new Map<string, number>();
  for (const t of templates) {
    const idx = seen.get(t.personId) ?? 0;
    seen.set(t.personId, idx + 1);
    const e = normalized(t.embedding);
    let s = 0;
    for (let i = 0; i < e.length; i++) s += e[i] * q[i];
    const cur = best.get(t.personId);
    if (!cur || s > cur.score) best.set(t.personId, { personId: t.personId, score: s, templateIndex: idx });
  }
  return [...best.values()].sort((a, b) => b.score - a.score).slice(0, k);
}
