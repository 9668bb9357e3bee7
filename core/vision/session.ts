/**
 * The one place onnxruntime sessions are made. Execution providers come from config in order of
 * preference; one the build lacks is skipped with a logged warning and cpu is always the last
 * resort, so a Pi config copied to a laptop still runs.
 */
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import { createLogger, type Logger } from '../log/logger.ts';

export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt' | 'xnnpack' | 'webgpu';

export interface SessionOptions {
  executionProviders: ExecutionProvider[];
  /** 0 = all cores. */
  intraOpThreads: number;
  log?: Logger;
}

/** What a stage needs from a model output: its values and shape. */
export interface ModelOutput {
  data: ArrayLike<number> & { length: number };
  dims: readonly number[];
}

export interface ModelSession {
  provider: ExecutionProvider;
  inputName: string;
  run(data: Float32Array, dims: readonly number[]): Promise<Record<string, ModelOutput>>;
  release(): Promise<void>;
}

export function sessionOptions(provider: ExecutionProvider, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: provider === 'cpu' ? ['cpu'] : [provider, 'cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Each session owns a thread pool; spinning workers of one model would steal the cores
    // from the next model (and from JPEG decode) in the pipeline, tripling latency here.
    extra: { session: { 'intra_op.allow_spinning': '0', 'inter_op.allow_spinning': '0' } },
  };
}

export async function createModelSession(model: string | Uint8Array, label: string, opts: SessionOptions): Promise<ModelSession> {
  const log = opts.log ?? createLogger('vision');
  const threads = opts.intraOpThreads > 0 ? opts.intraOpThreads : availableParallelism();
  const wanted = opts.executionProviders.length ? opts.executionProviders : ['cpu' as const];
  const candidates = wanted.includes('cpu') ? wanted : [...wanted, 'cpu' as const];
  let lastErr: unknown;
  for (const provider of candidates) {
    try {
      const so = sessionOptions(provider, threads);
      const session =
        typeof model === 'string' ? await ort.InferenceSession.create(model, so) : await ort.InferenceSession.create(model, so);
      if (provider !== wanted[0]) {
        log.warn(`${label}: execution provider ${wanted[0]} unavailable, running on ${provider}`, {
          reason: lastErr instanceof Error ? lastErr.message.split('\n')[0] : undefined,
        });
      }
      const inputName = session.inputNames[0];
      return {
        provider,
        inputName,
        run: (data, dims) => session.run({ [inputName]: new ort.Tensor('float32', data, dims as number[]) }) as Promise<Record<string, ModelOutput>>,
        release: () => session.release(),
      };
    } catch (err) {
      lastErr = err;
      if (provider === 'cpu') break;
    }
  }
  throw new Error(`${label}: cannot create an inference session: ${(lastErr as Error)?.message ?? lastErr}`);
}
