/**
 * Impostor scores of the current gallery, the input of the derived threshold (fpir.ts): every
 * probe of an anonymous background set (people who are not enrolled) and every enrolled row
 * (against the OTHER people) is scored against the gallery. Off the hot path: the work is cut
 * into slices of a few milliseconds so frames keep flowing while it runs.
 */
import type { Gallery } from './gallery.ts';
import type { ImpostorSample } from './fpir.ts';

export interface SampleOptions {
  /** Cap on probe-vs-person comparisons kept (memory and time); probes are subsampled beyond it. */
  maxComparisons: number;
  /** Milliseconds of work before yielding to the event loop; 0 = never yield (tools, tests). */
  sliceMs: number;
}

export const defaultSampleOptions: SampleOptions = { maxComparisons: 4_000_000, sliceMs: 8 };

/** `want` indices spread evenly over 0..n-1, so a subsample covers the whole list. */
function spread(n: number, want: number): number[] {
  if (n <= want) return Array.from({ length: n }, (_, i) => i);
  const step = n / want;
  return Array.from({ length: want }, (_, i) => Math.floor(i * step));
}

/**
 * `keepPairs`: also return every probe-vs-person score (the 'pairs' model); the 'max' model needs
 * only each probe's best, so large galleries do not hold probes x people scores in memory.
 * `backgroundSecond` (index for index with `background`): the probes' second embeddings; given,
 * and the gallery holding second templates, each probe's fused best is returned too
 * (fusedMaxima; enrolled rows probe with their person's second template), for the threshold the
 * door's gated fusion votes against (fpir.ts deriveGatedThreshold).
 */
export async function sampleImpostors(
  gallery: Gallery,
  background: Float32Array[],
  opts: Partial<SampleOptions> & { keepPairs?: boolean; backgroundSecond?: Float32Array[] } = {},
): Promise<ImpostorSample> {
  const o = { ...defaultSampleOptions, ...opts };
  const fused = opts.backgroundSecond !== undefined && gallery.secondCount > 0;
  if (fused && opts.backgroundSecond!.length !== background.length) throw new Error(`${opts.backgroundSecond!.length} second background embeddings for ${background.length} main ones`);
  const people = gallery.personCount;
  const perProbe = Math.max(1, people - 1);
  // At least 200 probes whatever the size: the max-of-N tail needs them.
  const budget = Math.max(200, Math.floor(o.maxComparisons / perProbe));
  type Probe = [Float32Array, Float32Array | undefined, string | undefined];
  // Background first: it is what unknown visitors look like; enrolled rows fill the rest.
  const bg = spread(background.length, budget).map((i): Probe => [background[i], fused ? opts.backgroundSecond![i] : undefined, undefined]);
  const own = spread(gallery.size, Math.max(0, budget - bg.length)).map((r): Probe => {
    const [id, v] = gallery.row(r);
    return [v, fused ? gallery.secondTemplateOf(id) : undefined, id];
  });
  const probes = [...bg, ...own];
  const pairs = opts.keepPairs ? new Float32Array(probes.length * people) : new Float32Array(0);
  const maxima = new Float32Array(probes.length);
  const fusedMaxima = new Float32Array(fused ? probes.length : 0);
  let n = 0;
  let m = 0;
  let sliceStart = performance.now();
  for (const [v, second, self] of probes) {
    const r = gallery.impostorScores(v, second, self);
    if (!r.scores.length) continue;
    if (opts.keepPairs) pairs.set(r.scores, n);
    n += r.scores.length;
    if (fused) fusedMaxima[m] = r.fused;
    maxima[m++] = r.main;
    if (o.sliceMs > 0 && performance.now() - sliceStart > o.sliceMs) {
      await new Promise((r) => setImmediate(r));
      sliceStart = performance.now();
    }
  }
  return { pairs: pairs.subarray(0, opts.keepPairs ? n : 0), maxima: maxima.subarray(0, m), people, ...(fused ? { fusedMaxima: fusedMaxima.subarray(0, m) } : {}) };
}
