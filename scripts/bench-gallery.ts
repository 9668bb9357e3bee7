/**
 * Gallery benchmark: 1:N search time (p50/p95) at growing gallery sizes, RSS with 100k templates
 * enrolled, and how often the int8-only re-rank (keepFloat=false) picks the same person as exact
 * fp32. Templates are synthetic: each person a random base vector, each template base + noise.
 *
 *   npx tsx scripts/bench-gallery.ts [sizes...]     e.g. 1000 10000 100000 1000000
 */
import { fileURLToPath } from 'node:url';
import { xorshift } from './eval/rng.ts';
import { Gallery } from '../device/gallery/gallery.ts';
import type { GalleryConfig } from '../device/gallery/config.ts';

const DIM = 512;
const PER_PERSON = 5;
const POOL = 1 << 20;

/** A pool of gaussian-ish numbers; vectors are windows into it, so 1M templates generate in seconds. */
function makePool(seed: number): Float32Array {
  const r = xorshift(seed);
  const pool = new Float32Array(POOL + DIM);
  for (let i = 0; i < pool.length; i++) pool[i] = (r() + r() + r() + r() - 2) * 1.7;
  return pool;
}

function templateInto(pool: Float32Array, row: number, out: Float32Array): void {
  const person = Math.floor(row / PER_PERSON);
  const a = (Math.imul(person, 2654435761) >>> 0) % POOL;
  const b = (Math.imul(row + 7919, 40503) >>> 0) % POOL;
  for (let j = 0; j < DIM; j++) out[j] = pool[a + j] + 0.6 * pool[b + j];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export interface GalleryBench {
  search_ms: Record<string, number>;
  rss_100k_mb: number;
}

export async function benchGallery(sizes: number[] = [1000, 10_000, 100_000, 1_000_000], config: Partial<GalleryConfig> = {}): Promise<GalleryBench> {
  const sorted = [...sizes].sort((x, y) => x - y);
  const pool = makePool(1);
  const g = new Gallery({ maxTemplates: Math.max(...sorted, 100_000), ...config });
  const v = new Float32Array(DIM);
  const q = new Float32Array(DIM);
  const search_ms: Record<string, number> = {};
  let rss100k = NaN;
  try {
    for (const n of sorted) {
      while (g.size < n) {
        templateInto(pool, g.size, v);
        g.addTemplate(`person-${Math.floor(g.size / PER_PERSON)}`, v);
      }
      if (n === 100_000) {
        global.gc?.();
        rss100k = process.memoryUsage().rss / 2 ** 20;
      }
      const runs = n >= 1_000_000 ? 30 : 100;
      const times: number[] = [];
      for (let i = 0; i < runs + 5; i++) {
        templateInto(pool, (i * 7919) % n, v);
        for (let j = 0; j < DIM; j++) q[j] = v[j] + 0.3 * pool[(i * 131 + j * 3) % POOL];
        const t0 = performance.now();
        g.search(q);
        if (i >= 5) times.push(performance.now() - t0); // first runs warm the JIT and wake workers
      }
      times.sort((x, y) => x - y);
      search_ms[`${n}_p50`] = +percentile(times, 0.5).toFixed(3);
      search_ms[`${n}_p95`] = +percentile(times, 0.95).toFixed(3);
    }
    if (Number.isNaN(rss100k) && g.size < 100_000) {
      // 100k not among the sizes: measure RSS with 100k enrolled anyway.
      while (g.size < 100_000) {
        templateInto(pool, g.size, v);
        g.addTemplate(`person-${Math.floor(g.size / PER_PERSON)}`, v);
      }
      rss100k = process.memoryUsage().rss / 2 ** 20;
    }
  } finally {
    await g.close();
  }
  return { search_ms, rss_100k_mb: +rss100k.toFixed(1) };
}

/** Share of queries where the int8-only gallery (keepFloat=false) returns the exact fp32 winner and top-5. */
export async function int8Agreement(n = 20_000, queries = 200): Promise<{ top1: number; top5: number; maxScoreError: number }> {
  const pool = makePool(2);
  const exact = new Gallery({ keepFloat: true, maxTemplates: n });
  const int8 = new Gallery({ keepFloat: false, maxTemplates: n });
  const v = new Float32Array(DIM);
  const q = new Float32Array(DIM);
  let top1 = 0;
  let top5 = 0;
  let maxErr = 0;
  try {
    for (let i = 0; i < n; i++) {
      templateInto(pool, i, v);
      exact.addTemplate(`person-${Math.floor(i / PER_PERSON)}`, v);
      int8.addTemplate(`person-${Math.floor(i / PER_PERSON)}`, v);
    }
    for (let i = 0; i < queries; i++) {
      templateInto(pool, (i * 7919) % n, v);
      // Heavy noise so the best and second person are close: the hard case for quantization.
      for (let j = 0; j < DIM; j++) q[j] = v[j] + 1.5 * pool[(i * 131 + j * 3) % POOL];
      const a = exact.search(q, 5)!;
      const b = int8.search(q, 5)!;
      if (a.personId === b.personId) top1++;
      if (a.top.map((m) => m.personId).join() === b.top.map((m) => m.personId).join()) top5++;
      maxErr = Math.max(maxErr, Math.abs(a.score - b.score));
    }
  } finally {
    await exact.close();
    await int8.close();
  }
  return { top1: top1 / queries, top5: top5 / queries, maxScoreError: maxErr };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  const res = await benchGallery(sizes.length ? sizes : undefined);
  for (const [k, ms] of Object.entries(res.search_ms)) console.log(`search ${k.replace('_', ' ')}: ${ms} ms`);
  console.log(`rss with 100k templates: ${res.rss_100k_mb} MiB`);
  const agree = await int8Agreement();
  console.log(`int8-only re-rank vs exact fp32: top-1 ${(agree.top1 * 100).toFixed(1)}%, top-5 ${(agree.top5 * 100).toFixed(1)}%, max score error ${agree.maxScoreError.toFixed(4)}`);
  console.log(JSON.stringify({ ...res, int8_agreement: agree }));
}
