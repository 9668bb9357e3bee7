/**
 * Test-time augmentation for the identification eval: besides the engine's own embedding, the
 * embedding of the mirrored aligned crop ("flip") and of a second, wider crop of the same face
 * ("crop2"). Done here with the embedder's functions and an eval-only feature session, so the
 * engine (and its latency) stays untouched while we measure whether either pays.
 */
import { readFileSync } from 'node:fs';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARCFACE_TEMPLATE, estimateSimilarity, type Point } from '../../core/vision/geometry.ts';
import { embedAligned, FEATURE_SPEC } from '../../core/vision/embedder.ts';
import type { VisionEngine } from '../../core/vision/engine.ts';
import { createModelSession, type ModelSession } from '../../core/vision/session.ts';
import { loadInt8Model } from '../../core/models/artifact.ts';
import { invertAffine, sampleToTensor } from '../../core/vision/warp.ts';
import { progressBar } from './progress.ts';

export interface VariantEmbedding {
  embedding?: Float32Array;
  flip?: Float32Array;
  crop2?: Float32Array;
  /** Engine quality verdict of the face (enrolment gates). */
  qualityOk?: boolean;
  /** Laplacian variance of the aligned face: the weight of a quality-weighted template mean. */
  sharpness?: number;
  error?: string;
}

/** Second crop: the template shrunk about its centre, so the face sits in more context. */
export const CROP2_SCALE = 0.88;
const CROP2_TEMPLATE: Point[] = ARCFACE_TEMPLATE.map(([x, y]) => [56 + (x - 56) * CROP2_SCALE, 56 + (y - 56) * CROP2_SCALE]);

/** Mirror a CHW 112x112 tensor left-right in place. */
export function flipChw(t: Float32Array, size = 112): Float32Array {
  for (let c = 0; c < t.length / (size * size); c++) {
    for (let y = 0; y < size; y++) {
      const row = c * size * size + y * size;
      for (let x = 0; x < size / 2; x++) {
        const a = t[row + x];
        t[row + x] = t[row + size - 1 - x];
        t[row + size - 1 - x] = a;
      }
    }
  }
  return t;
}

async function featureSession(engine: VisionEngine): Promise<ModelSession> {
  const c = engine.config;
  const model = engine.precision.feature === 'int8' ? loadInt8Model(c.modelDir, 'fr_feature').bytes : join(c.modelDir, 'fr_feature.onnx');
  return createModelSession(model, 'fr_feature (eval)', { executionProviders: ['cpu'], intraOpThreads: c.intraOpThreads, precision: engine.precision.feature });
}

export async function embedVariants(engine: VisionEngine, paths: string[]): Promise<Map<string, VariantEmbedding>> {
  const session = await featureSession(engine);
  const out = new Map<string, VariantEmbedding>();
  const buf = new Float32Array(3 * 112 * 112);
  const bar = progressBar(paths.length, 'embedding (+flip, +crop2)');
  try {
    for (const p of paths) {
      try {
        const img = await engine.decode(readFileSync(p));
        const a = await engine.analyze(img, { embed: 'primary', liveness: false });
        if (a.primary < 0) out.set(p, { error: 'no_face' });
        else {
          const f = a.faces[a.primary];
          sampleToTensor(img, invertAffine(estimateSimilarity(f.landmarks, ARCFACE_TEMPLATE)), FEATURE_SPEC, buf);
          const flip = await embedAligned(session, flipChw(buf));
          sampleToTensor(img, invertAffine(estimateSimilarity(f.landmarks, CROP2_TEMPLATE)), FEATURE_SPEC, buf);
          const crop2 = await embedAligned(session, buf);
          out.set(p, { embedding: f.embedding, flip, crop2, qualityOk: f.quality.ok, sharpness: f.quality.sharpness });
        }
      } catch (err) {
        out.set(p, { error: (err as Error).message });
      }
      bar.tick();
    }
  } finally {
    await session.release();
    bar.done();
  }
  return out;
}

/** Embeddings cached in one JSON file (outside the repo) while iterating on the eval. */
export async function cachedVariants(engine: VisionEngine, paths: string[], cacheFile?: string): Promise<Map<string, VariantEmbedding>> {
  if (cacheFile && existsSync(cacheFile)) {
    const raw = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, Record<string, unknown>>;
    if (paths.every((p) => p in raw)) {
      const f = (v: unknown) => (Array.isArray(v) ? Float32Array.from(v as number[]) : undefined);
      return new Map(paths.map((p) => [p, { ...raw[p], embedding: f(raw[p].embedding), flip: f(raw[p].flip), crop2: f(raw[p].crop2) } as VariantEmbedding]));
    }
  }
  const m = await embedVariants(engine, paths);
  if (cacheFile) {
    const arr = (v?: Float32Array) => (v ? Array.from(v, (x) => Math.round(x * 1e6) / 1e6) : undefined);
    writeFileSync(cacheFile, JSON.stringify(Object.fromEntries([...m].map(([p, v]) => [p, { ...v, embedding: arr(v.embedding), flip: arr(v.flip), crop2: arr(v.crop2) }]))));
  }
  return m;
}
