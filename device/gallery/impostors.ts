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

/** Every `step`-th element, so a subsample covers the whole list (the background has no order). */
function spread<T>(items: T[], want: number): T[] {
  if (items.length <= want) return items;
  const step = items.length / want;
  return Array.from({ length: want }, (_, i) => items[Math.floor(i * step)]);
}

export async function sampleImpostors(gallery: Gallery, background: Float32Array[], opts: Partial<SampleOptions> = {}): Promise<ImpostorSample> {
  const o = { ...defaultSampleOptions, ...opts };
  const people = gallery.personCount;
  const rows = [...gallery.rowsByPerson()];
  const perProbe = Math.max(1, people - 1);
  // At least 200 probes whatever the size: the max-of-N tail needs them.
  const budget = Math.max(200, Math.floor(o.maxComparisons / perProbe));
  // Background first: it is what unknown visitors look like; enrolled rows fill the rest.
  const bg = spread(background, budget);
  const own = spread(rows, Math.max(0, budget - bg.length));
  const probes: [Float32Array, string | undefined][] = [...bg.map((b) => [b, undefined] as [Float32Array, undefined]), ...own.map(([id, v]) => [v, id] as [Float32Array, string])];
  const pairs = new Float32Array(probes.length * people);
  const maxima = new Float32Array(probes.length);
  let n = 0;
  let m = 0;
  let sliceStart = performance.now();
  for (const [v, self] of probes) {
    const scores = gallery.personScores(v, self);
    if (!scores.length) continue;
    pairs.set(scores, n);
    n += scores.length;
    let best = -Infinity;
    for (const s of scores) if (s > best) best = s;
    maxima[m++] = best;
    if (o.sliceMs > 0 && performance.now() - sliceStart > o.sliceMs) {
      await new Promise((r) => setImmediate(r));
      sliceStart = performance.now();
    }
  }
  return { pairs: pairs.subarray(0, n), maxima: maxima.subarray(0, m), people };
}
