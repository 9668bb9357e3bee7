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
 * With second embeddings, each search is the door's: fused within the band of the threshold in
 * use (the derived one, or the fixed one for the fixed figures); the threshold is derived as on
 * the device, on the gated fused scores (the background half's second embeddings beside its main
 * ones, fpir.ts deriveGatedThreshold, the 'max' model).
 */
import { Gallery } from '../../device/gallery/gallery.ts';
import { decodeBackground, encodeBackground } from '../../device/gallery/background.ts';
import { deriveGatedThreshold, deriveThreshold, type ThresholdModel } from '../../device/gallery/fpir.ts';
import { sampleImpostors } from '../../device/gallery/impostors.ts';
import { deviceSearch } from './identify.ts';
import { xorshift } from './rng.ts';

export interface SizePerson {
  identity: string;
  enrol: Float32Array[];
  probes: (Float32Array | undefined)[];
  /** Second embeddings, index for index with enrol / probes (absent: main model only). */
  enrolSecond?: (Float32Array | undefined)[];
  probesSecond?: (Float32Array | undefined)[];
}

export interface SizeInput {
  people: SizePerson[];
  /** Single-image people: one embedding (undefined = no face) each. */
  unknown: { identity: string; embedding: Float32Array | undefined; second?: Float32Array }[];
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

function best(g: Gallery, e: Float32Array | undefined, second: Float32Array | undefined, threshold: number): { personId: string; score: number } | null {
  return e ? deviceSearch(g, e, second, threshold).top : null;
}

type Probe = [Float32Array | undefined, Float32Array | undefined];
const pairs = (main: (Float32Array | undefined)[], second?: (Float32Array | undefined)[]): Probe[] => main.map((e, i) => [e, second?.[i]]);

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
      for (const p of enrolled) g.setPerson(p.identity, p.enrol, (p.enrolSecond ?? []).filter((s): s is Float32Array => s !== undefined));
      for (const fold of [0, 1]) {
        const half = input.unknown.filter((u) => u.embedding && identityFold(u.identity, seed) !== fold);
        const background = decodeBackground(encodeBackground(half.map((u) => u.embedding!)));
        // As the device: gated fused scores when there are second embeddings (of every face), main otherwise.
        const fused = g.secondCount > 0 && half.length > 0 && half.every((u) => u.second);
        const backgroundSecond = fused ? decodeBackground(encodeBackground(half.map((u) => u.second!))) : undefined;
        const sample = await sampleImpostors(g, background, { sliceMs: 0, keepPairs: !fused && model === 'pairs', backgroundSecond });
        const d = fused ? deriveGatedThreshold(sample, targetFpir, g.config.fusionBand) : deriveThreshold(sample, targetFpir, model);
        thresholdSum += d.threshold;
        expectedSum += d.expectedFpir;
        const unknown: Probe[] = [
          ...input.unknown.filter((u) => identityFold(u.identity, seed) === fold).map((u): Probe => [u.embedding, u.second]),
          ...outside.filter((p) => identityFold(p.identity, seed) === fold).flatMap((p) => [...pairs(p.enrol, p.enrolSecond), ...pairs(p.probes, p.probesSecond)]),
        ];
        for (const [e, s] of unknown) {
          unknownCount++;
          const top = best(g, e, s, d.threshold);
          if (top && top.score >= d.threshold) fp++;
          const fixed = best(g, e, s, fixedThreshold);
          if (fixed && fixed.score >= fixedThreshold) fixedFp++;
        }
        for (const p of enrolled) {
          for (const [e, s] of pairs(p.probes, p.probesSecond)) {
            mated++;
            const top = best(g, e, s, d.threshold);
            if (top?.personId === p.identity && top.score >= d.threshold) hits++;
            const fixed = best(g, e, s, fixedThreshold);
            if (fixed?.personId === p.identity && fixed.score >= fixedThreshold) fixedHits++;
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
