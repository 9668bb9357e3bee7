/** `eval --pairs`: embed every image of a pairs file and score verification. */
import { readFileSync } from 'node:fs';
import type { VisionEngine } from '../../core/vision/engine.ts';
import { cosine } from '../../core/vision/embedder.ts';
import { readPairs } from './dataset.ts';
import { assignFolds, type PairsProtocol } from './folds.ts';
import { progressBar } from './progress.ts';
import { leaveOneFoldOut, tarAtFar, bestThreshold, type ScoredPair } from './verification.ts';

export interface EmbeddedImage {
  embedding?: Float32Array;
  /** The second embedding of the same aligned face (eval --identify with the second model). */
  second?: Float32Array;
  error?: string;
}

/** Embed the primary face of each image once (no liveness: it does not change the embedding). */
export async function embedImages(engine: VisionEngine, paths: string[], label = 'embedding'): Promise<Map<string, EmbeddedImage>> {
  const out = new Map<string, EmbeddedImage>();
  const bar = progressBar(paths.length, label);
  for (const p of paths) {
    try {
      const a = await engine.analyzeImage(readFileSync(p), { embed: 'primary', liveness: false });
      out.set(p, a.primary >= 0 ? { embedding: a.faces[a.primary].embedding } : { error: 'no_face' });
    } catch (err) {
      out.set(p, { error: (err as Error).message });
    }
    bar.tick();
  }
  bar.done();
  return out;
}

export interface PairsReport {
  pairs: number;
  images: number;
  no_face: number;
  decode_errors: number;
  accuracy: number;
  /** How `accuracy` was measured: the file's own folds, or a seeded 10-fold split when it has one fold. */
  protocol: PairsProtocol;
  folds: number;
  per_fold: { fold: number; accuracy: number; threshold: number }[];
  tar_at_far_1e3: number;
  threshold_far_1e3: number;
  threshold_best_accuracy: number;
  recommended_threshold: number;
  configured_threshold: number;
  accuracy_at_configured: number;
}

export function scorePairs(file: string, embeddings: Map<string, EmbeddedImage>, configuredThreshold: number): { report: PairsReport; scored: ScoredPair[] } {
  const rows = readPairs(file);
  const split = new Set(rows.map((r) => r.fold)).size < 2 ? assignFolds(rows) : null;
  const scored: ScoredPair[] = rows.map((r, i) => {
    const ea = embeddings.get(r.a)?.embedding;
    const eb = embeddings.get(r.b)?.embedding;
    // A face we could not find counts as a failed comparison, never as a free pass.
    return { score: ea && eb ? cosine(ea, eb) : -1, same: r.same, fold: split ? split.folds[i] : r.fold };
  });
  const lofo = leaveOneFoldOut(scored);
  const far = tarAtFar(scored, 1e-3);
  const best = bestThreshold(scored);
  const errors = [...embeddings.values()].filter((e) => e.error);
  return {
    scored,
    report: {
      pairs: scored.length,
      images: embeddings.size,
      no_face: errors.filter((e) => e.error === 'no_face').length,
      decode_errors: errors.filter((e) => e.error !== 'no_face').length,
      accuracy: lofo.accuracy,
      protocol: split ? split.protocol : 'leave-one-fold-out',
      folds: lofo.perFold.length,
      per_fold: lofo.perFold,
      tar_at_far_1e3: far.tar,
      threshold_far_1e3: far.threshold,
      threshold_best_accuracy: best.threshold,
      // For a door a false accept is worse than a retry: recommend the FAR 1e-3 operating point.
      recommended_threshold: far.threshold,
      configured_threshold: configuredThreshold,
      accuracy_at_configured: scored.filter((p) => (p.score >= configuredThreshold) === p.same).length / scored.length,
    },
  };
}

export async function evalPairs(engine: VisionEngine, file: string): Promise<PairsReport> {
  const rows = readPairs(file);
  const paths = [...new Set(rows.flatMap((r) => [r.a, r.b]))];
  const emb = await embedImages(engine, paths);
  return scorePairs(file, emb, engine.config.match.threshold).report;
}

export interface PairsVsReport {
  fp32_accuracy: number;
  int8_accuracy: number;
  fp32_tar_at_far_1e3: number;
  int8_tar_at_far_1e3: number;
  fp32_no_face: number;
  int8_no_face: number;
  /** Mean cosine between the fp32 and int8 embedding of the same image (both found a face). */
  mean_cosine: number;
  min_cosine: number;
  pairs: number;
}

/** fp32 and int8 engines over the same pairs file in one process. */
export async function evalPairsVs(fp32: VisionEngine, int8: VisionEngine, file: string): Promise<PairsVsReport> {
  const rows = readPairs(file);
  const paths = [...new Set(rows.flatMap((r) => [r.a, r.b]))];
  const a = await embedImages(fp32, paths, 'fp32');
  const b = await embedImages(int8, paths, 'int8');
  const ra = scorePairs(file, a, fp32.config.match.threshold).report;
  const rb = scorePairs(file, b, int8.config.match.threshold).report;
  const cos: number[] = [];
  for (const p of paths) {
    const ea = a.get(p)?.embedding;
    const eb = b.get(p)?.embedding;
    if (ea && eb) cos.push(cosine(ea, eb));
  }
  return {
    fp32_accuracy: ra.accuracy,
    int8_accuracy: rb.accuracy,
    fp32_tar_at_far_1e3: ra.tar_at_far_1e3,
    int8_tar_at_far_1e3: rb.tar_at_far_1e3,
    fp32_no_face: ra.no_face,
    int8_no_face: rb.no_face,
    mean_cosine: cos.reduce((s, v) => s + v, 0) / Math.max(1, cos.length),
    min_cosine: Math.min(...cos),
    pairs: ra.pairs,
  };
}
