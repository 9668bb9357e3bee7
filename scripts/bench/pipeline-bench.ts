/**
 * Whole-pipeline latency per face on real images: decode, detect, landmarks, align (incl. quality),
 * liveness, embed, one image at a time as the door would see them. Liveness runs on its worker
 * beside landmarks + embedding, so its stage time (start to result) overlaps theirs and the
 * stages do not add up to the pipeline. `cpu` is the process CPU time per image (every thread):
 * the work itself, which moves less than wall time when other programs load the cores.
 */
import { readFileSync } from 'node:fs';
import { STAGES, type StageTimes, type VisionEngine } from '../../core/vision/engine.ts';
import { percentile, round2 } from '../eval/stats.ts';

export interface PipelineBench {
  images: number;
  faces: number;
  pipeline_p50_ms: number;
  pipeline_p95_ms: number;
  faces_per_s: number;
  stages: Record<string, { p50_ms: number; p95_ms: number }>;
}

export async function benchPipeline(engine: VisionEngine, files: string[], warmup = 10): Promise<PipelineBench> {
  const buffers = files.map((f) => readFileSync(f));
  for (const b of buffers.slice(0, warmup)) await engine.analyzeImage(b);
  const totals: number[] = [];
  const perStage: Record<string, number[]> = Object.fromEntries([...STAGES, 'cpu'].map((s) => [s, []]));
  let faces = 0;
  const start = performance.now();
  for (const b of buffers) {
    const times: StageTimes = {};
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const a = await engine.analyzeImage(b, { timings: times });
    const dt = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (a.faces.length !== 1) continue; // the per-face figure is defined on one-face images
    faces += 1;
    totals.push(dt);
    for (const s of STAGES) perStage[s].push(times[s] ?? 0);
    perStage.cpu.push((cpu.user + cpu.system) / 1000);
  }
  const wall = (performance.now() - start) / 1000;
  return {
    images: buffers.length,
    faces,
    pipeline_p50_ms: round2(percentile(totals, 50)),
    pipeline_p95_ms: round2(percentile(totals, 95)),
    faces_per_s: round2(faces / wall),
    stages: Object.fromEntries(Object.entries(perStage).map(([s, v]) => [s, { p50_ms: round2(percentile(v, 50)), p95_ms: round2(percentile(v, 95)) }])),
  };
}

export interface PipelineVs {
  fp32_p50_ms: number;
  int8_p50_ms: number;
  fp32_p95_ms: number;
  int8_p95_ms: number;
  /** fp32 median over int8 median. */
  speedup: number;
  /** Median of the per-image fp32/int8 ratios: robust when the machine's speed drifts. */
  speedup_paired: number;
  faces: number;
}

/**
 * fp32 and int8 over the same images in one process, alternating which goes first on every
 * image, so background load hits both equally.
 */
export async function benchPipelineVs(fp32: VisionEngine, int8: VisionEngine, files: string[], warmup = 10): Promise<PipelineVs> {
  const buffers = files.map((f) => readFileSync(f));
  for (const b of buffers.slice(0, warmup)) {
    await fp32.analyzeImage(b);
    await int8.analyzeImage(b);
  }
  const a: number[] = [];
  const q: number[] = [];
  const ratios: number[] = [];
  const time = async (e: VisionEngine, b: Buffer) => {
    const t0 = performance.now();
    const r = await e.analyzeImage(b);
    return { dt: performance.now() - t0, faces: r.faces.length };
  };
  for (let i = 0; i < buffers.length; i++) {
    const b = buffers[i];
    const [x, y] = i % 2 ? [await time(int8, b), await time(fp32, b)].reverse() : [await time(fp32, b), await time(int8, b)];
    if (x.faces !== 1 || y.faces !== 1) continue;
    a.push(x.dt);
    q.push(y.dt);
    ratios.push(x.dt / y.dt);
  }
  const f50 = percentile(a, 50);
  const i50 = percentile(q, 50);
  return {
    fp32_p50_ms: round2(f50),
    int8_p50_ms: round2(i50),
    fp32_p95_ms: round2(percentile(a, 95)),
    int8_p95_ms: round2(percentile(q, 95)),
    speedup: round2(f50 / i50),
    speedup_paired: round2(percentile(ratios, 50)),
    faces: a.length,
  };
}
