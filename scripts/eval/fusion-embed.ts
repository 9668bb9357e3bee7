/**
 * Embeds images with the main model (through the vision engine, as the door does) and with the
 * second model on the very aligned crop the main model got (captured from the engine's
 * onModelInput hook), once at int8 and once at fp32, timing each second-model run.
 */
import { readFileSync } from 'node:fs';
import { cosine } from '../../core/vision/embedder.ts';
import type { StageTimes, VisionEngine } from '../../core/vision/engine.ts';
import type { SecondEmbedder } from '../../core/vision/second-embedder.ts';
import { progressBar } from './progress.ts';

export interface DualEmbedding {
  main: Float32Array;
  second: Float32Array;
  secondFp32: Float32Array;
}

export interface DualEmbedResult {
  embeddings: Map<string, DualEmbedding>;
  /** Paths with no face or an unreadable file. */
  failed: number;
  /** Per-face wall time of each second-model run, and of the main embedding stage, ms. */
  ms: { int8: number[]; fp32: number[]; main: number[] };
  /** cosine(int8, fp32) of the second model per face. */
  int8VsFp32: number[];
}

/** `crop()` returns the feature tensor the engine last fed its main embedder. */
export async function embedBoth(
  engine: VisionEngine,
  crop: () => Float32Array | undefined,
  second: { int8: SecondEmbedder; fp32: SecondEmbedder },
  paths: string[],
): Promise<DualEmbedResult> {
  const out: DualEmbedResult = { embeddings: new Map(), failed: 0, ms: { int8: [], fp32: [], main: [] }, int8VsFp32: [] };
  const bar = progressBar(paths.length, 'embedding (main + second int8 + second fp32)');
  // Warm both sessions up so the first timed runs are not one-off allocations.
  const warm = new Float32Array(3 * 112 * 112);
  for (let i = 0; i < 5; i++) await Promise.all([second.int8.embed(warm), second.fp32.embed(warm)]);
  for (const p of paths) {
    bar.tick();
    let main: Float32Array | undefined;
    let aligned: Float32Array | undefined;
    try {
      const timings: StageTimes = {};
      const a = await engine.analyzeImage(readFileSync(p), { embed: 'primary', liveness: false, timings });
      main = a.primary >= 0 ? a.faces[a.primary].embedding : undefined;
      if (main && timings.embed !== undefined) out.ms.main.push(timings.embed);
      aligned = main ? crop() : undefined;
    } catch {
      main = undefined;
    }
    if (!main || !aligned) {
      out.failed++;
      continue;
    }
    let t = performance.now();
    const s8 = await second.int8.embed(aligned);
    out.ms.int8.push(performance.now() - t);
    t = performance.now();
    const s32 = await second.fp32.embed(aligned);
    out.ms.fp32.push(performance.now() - t);
    out.int8VsFp32.push(cosine(s8, s32));
    out.embeddings.set(p, { main, second: s8, secondFp32: s32 });
  }
  bar.done();
  return out;
}
