/**
 * `eval --identify --gallery-sizes 100,250,...`: does the threshold the device derives for a
 * target FPIR (device/gallery/operating-point.ts) hold that FPIR at every gallery size, where a
 * fixed threshold drifts? For each size, a seeded subsample of the enrollable people is enrolled;
 * the threshold is derived from that gallery and a background set, exactly as on the device; then
 * the unknown visitors are searched and the FPIR they achieve is counted.
 *
 * The background must not be a fit: the single-image people are split in two halves by identity;
 * one half is the background (int8 round-trip, like the shipped file), the other the unknown
 * visitors, then the halves swap and the counts are pooled. People with probes who are not in the
 * subsampled gallery are unknown visitors too (identity-disjoint from the background as well).
 */
import { Gallery } from '../../device/gallery/gallery.ts';
import { decodeBackground, encodeBackground } from '../../device/gallery/background.ts';
import { deriveThreshold, type ThresholdModel } from '../../device/gallery/fpir.ts';
import { sampleImpostors } from '../../device/gallery/impostors.ts';
import { xorshift } from './rng.ts';

export interface SizePerson {
  identity: string;
  enrol: Float32Array[];
  probes: (Float32Array | undefined)[];
}

export interface SizeInput {
  people: SizePerson[];
  /** Single-image people: one embedding (undefined = no face) each. */
  unknown: { identity: string; embedding: Float32Array | undefined }[];
}

export interface SizeFigures {
  people: number;
  threshold: number;
  expected_fpir: number;
  achieved_fpir: number;
  tpir: number;
  unknown_probes: number;
  fixed_threshold: number;
  fixed_achieved_fpir: number;
  fixed_tpir: number;
}

/** FNV-1a of the identity: the fold an identity falls in, stable across runs and machines. */
export function identityFold(identity: string, seed = 11): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < identity.length; i++) h = Math.imul(h ^ identity.charCodeAt(i), 16777619);
  return (h >>> 0) % 2;
}

function shuffled<T>(items: T[], seed: number): T[] {
  const r = xorshift(seed);
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function best(g: Gallery, e: Float32Array | undefined): { personId: string; score: number } | null {
  if (!e) return null;
  const hit = g.search(e, 1);
  return hit && { personId: hit.personId, score: hit.score };
}

export async function identifyBySize(input: SizeInput, sizes: number[], targetFpir: number, fixedThreshold: number, model: ThresholdModel = 'max', seed = 11): Promise<SizeFigures[]> {
  const order = shuffled(input.people, seed);
  const out: SizeFigures[] = [];
  for (const size of sizes) {
    const n = Math.min(size, order.length);
    const enrolled = order.slice(0, n);
    const outside = order.slice(n);
    const g = new Gallery({ dim: enrolled[0]?.enrol[0]?.length ?? 512, maxTemplates: Math.max(1024, n * 8), kernel: { type: 'js', threads: 1 } });
    let fp = 0, fixedFp = 0, unknownCount = 0, hits = 0, fixedHits = 0, mated = 0, thresholdSum = 0, expectedSum = 0;
    try {
      for (const p of enrolled) g.setPerson(p.identity, p.enrol);
      for (const fold of [0, 1]) {
        const background = decodeBackground(encodeBackground(input.unknown.filter((u) => u.embedding && identityFold(u.identity, seed) !== fold).map((u) => u.embedding!)));
        const sample = await sampleImpostors(g, background, { sliceMs: 0, keepPairs: model === 'pairs' });
        const d = deriveThreshold(sample, targetFpir, model);
        thresholdSum += d.threshold;
        expectedSum += d.expectedFpir;
        const unknown = [...input.unknown.filter((u) => identityFold(u.identity, seed) === fold).map((u) => u.embedding), ...outside.filter((p) => identityFold(p.identity, seed) === fold).flatMap((p) => [...p.enrol, ...p.probes])];
        for (const e of unknown) {
          const top = best(g, e);
          unknownCount++;
          if (top && top.score >= d.threshold) fp++;
          if (top && top.score >= fixedThreshold) fixedFp++;
        }
        for (const p of enrolled) {
          for (const e of p.probes) {
            const top = best(g, e);
            mated++;
            if (top?.personId === p.identity && top.score >= d.threshold) hits++;
            if (top?.personId === p.identity && top.score >= fixedThreshold) fixedHits++;
          }
        }
      }
    } finally {
      await g.close();
    }
    out.push({
      people: n,
      threshold: thresholdSum / 2,
      expected_fpir: expectedSum / 2,
      achieved_fpir: fp / unknownCount,
      tpir: hits / mated,
      unknown_probes: unknownCount,
      fixed_threshold: fixedThreshold,
      fixed_achieved_fpir: fixedFp / unknownCount,
      fixed_tpir: fixedHits / mated,
    });
    if (n === order.length) break;
  }
  return out;
}
