/**
 * Checks on a quantized model as onnxruntime runs it: which kernels the optimized graph uses
 * (did QDQ fuse into QLinearConv / QGemm / QLinearAdd ...?) and how fast it runs next to the
 * float model.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { FeedSample } from './calibrate.ts';
import { toFeeds } from './calibrate.ts';
import { decodeModel } from './onnx.ts';

/** Node count per op type of the graph onnxruntime optimises `modelBytes` into (CPU, level 'all'). */
export async function optimizedOpCounts(modelBytes: Uint8Array, threads = 2): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'portier-opt-'));
  const file = join(dir, 'optimized.onnx');
  try {
    const s = await ort.InferenceSession.create(modelBytes, {
      intraOpNumThreads: threads,
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
      optimizedModelFilePath: file,
      logSeverityLevel: 3, // the "hardware specific optimizations" notice is expected here
    });
    await s.release();
    const counts: Record<string, number> = {};
    for (const n of decodeModel(readFileSync(file)).graph.node) counts[n.opType ?? '?'] = (counts[n.opType ?? '?'] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Timing {
  /** Milliseconds per run: the fastest round (least disturbed by other load) and the median. */
  minMs: number;
  medianMs: number;
}

export interface SpeedComparison {
  /** Wall clock with `threads` intra-op threads, as the engine runs. */
  fp32: Timing;
  int8: Timing;
  /** fp32 / int8 on the fastest rounds. */
  speedup: number;
  speedupMedian: number;
  /**
   * CPU time per run on one thread without spin-waiting: the work each model does, which other
   * load on the machine barely disturbs (wall-clock figures on a busy machine do).
   */
  cpu: { fp32Ms: number; int8Ms: number; speedup: number };
}

type Sessions = [ort.InferenceSession, ort.InferenceSession];

async function alternate(
  sessions: Sessions,
  feeds: Record<string, ort.Tensor>[],
  rounds: number,
  per: number,
  warmup: number,
  clock: () => number,
): Promise<[number[], number[]]> {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < warmup; i++) for (const s of sessions) await s.run(feeds[i % feeds.length]);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < 2; k++) {
      const t = clock();
      for (let i = 0; i < per; i++) await sessions[k].run(feeds[(r * per + i) % feeds.length]);
      times[k].push((clock() - t) / per);
    }
  }
  return times;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Times two models on the same inputs, alternating rounds (fp32, int8, fp32, ...) so that
 * background load hits both alike: wall clock with `threads` threads (default 2), then CPU time
 * on one thread.
 */
export async function compareSpeed(
  fp32Bytes: Uint8Array,
  int8Bytes: Uint8Array,
  samples: readonly FeedSample[],
  opts: { threads?: number; rounds?: number; runsPerRound?: number; warmup?: number } = {},
): Promise<SpeedComparison> {
  if (!samples.length) throw new Error('compareSpeed: no samples');
  const feeds = samples.map(toFeeds);
  const rounds = opts.rounds ?? 30;
  const per = opts.runsPerRound ?? 5;
  const warmup = opts.warmup ?? 5;
  const make = async (threads: number, spin: boolean): Promise<Sessions> => {
    const so: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
      logSeverityLevel: 3,
      ...(spin ? {} : { extra: { session: { 'intra_op.allow_spinning': '0' } } }),
    };
    return [await ort.InferenceSession.create(fp32Bytes, so), await ort.InferenceSession.create(int8Bytes, so)];
  };
  const timing = (a: number[]): Timing => {
    const s = [...a].sort((x, y) => x - y);
    return { minMs: s[0], medianMs: s[s.length >> 1] };
  };
  let wall: Sessions | undefined;
  let single: Sessions | undefined;
  try {
    wall = await make(opts.threads ?? 2, true);
    const [tf, tq] = await alternate(wall, feeds, rounds, per, warmup, () => performance.now());
    single = await make(1, false);
    const [cf, cq] = await alternate(single, feeds, Math.max(5, rounds >> 1), per, warmup, cpuMs);
    const fp32 = timing(tf);
    const int8 = timing(tq);
    const cpuF = timing(cf).medianMs;
    const cpuQ = timing(cq).medianMs;
    return {
      fp32,
      int8,
      speedup: fp32.minMs / int8.minMs,
      speedupMedian: fp32.medianMs / int8.medianMs,
      cpu: { fp32Ms: cpuF, int8Ms: cpuQ, speedup: cpuF / cpuQ },
    };
  } finally {
    for (const s of [...(wall ?? []), ...(single ?? [])]) await s.release();
  }
}
