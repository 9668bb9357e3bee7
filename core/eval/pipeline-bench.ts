/**
 * Whole-pipeline latency per face on real images: decode, detect, landmarks, align (incl. quality),
 * liveness, embed, one image at a time as the door would see them.
 */
import { readFileSync } from 'node:fs';
import { STAGES, type StageTimes, type VisionEngine } from '../vision/engine.ts';
import { percentile, round2 } from './stats.ts';

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
  const perStage: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s, []]));
  let faces = 0;
  const start = performance.now();
  for (const b of buffers) {
    const times: StageTimes = {};
    const t0 = performance.now();
    const a = await engine.analyzeImage(b, { timings: times });
    const dt = performance.now() - t0;
    if (a.faces.length !== 1) continue; // the per-face figure is defined on one-face images
    faces += 1;
    totals.push(dt);
    for (const s of STAGES) perStage[s].push(times[s] ?? 0);
  }
  const wall = (performance.now() - start) / 1000;
  return {
    images: buffers.length,
    faces,
    pipeline_p50_ms: round2(percentile(totals, 50)),
    pipeline_p95_ms: round2(percentile(totals, 95)),
    faces_per_s: round2(faces / wall),
    stages: Object.fromEntries(STAGES.map((s) => [s, { p50_ms: round2(percentile(perStage[s], 50)), p95_ms: round2(percentile(perStage[s], 95)) }])),
  };
}
