/**
 * The one place onnxruntime sessions are made. Execution providers come from config in order of
 * preference; a session is tried with the list from each provider onwards (tensorrt, cuda, cpu;
 * then cuda, cpu; then cpu), so a provider the build lacks is skipped with a logged warning and cpu
 * is always the last resort: a Jetson config copied to a laptop still runs.
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import { createLogger, type Logger } from '../log/logger.ts';

export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt';

/** TensorRT settings with the engine cache folder already resolved (see VisionEngine.create). */
export interface TensorRtSettings {
  engineCacheDir: string;
  int8: boolean;
  fp16: boolean;
}

export interface SessionOptions {
  executionProviders: ExecutionProvider[];
  /** 0 = all cores. */
  intraOpThreads: number;
  /** What the model bytes are: an int8 (QDQ) model is fed to TensorRT's int8 path. */
  precision?: 'fp32' | 'int8';
  tensorrt?: TensorRtSettings;
  log?: Logger;
}

/** What a stage needs from a model output: its values and shape. */
export interface ModelOutput {
  data: ArrayLike<number> & { length: number };
  dims: readonly number[];
}

export interface ModelSession {
  /** The provider the session was created with (first of its list; nodes it cannot take fall to the next). */
  provider: ExecutionProvider;
  inputName: string;
  run(data: Float32Array, dims: readonly number[]): Promise<Record<string, ModelOutput>>;
  release(): Promise<void>;
}

/** The provider lists to try, best first: each preference followed by those after it, cpu always last. */
export function providerCandidates(wanted: readonly ExecutionProvider[]): ExecutionProvider[][] {
  const order = [...new Set<ExecutionProvider>([...wanted.filter((p) => p !== 'cpu'), 'cpu'])];
  return order.map((_, i) => order.slice(i));
}

/**
 * TensorRT provider options as onnxruntime's `trt_*` keys (string values, as the C API's
 * UpdateTensorRTProviderOptions takes them). Note: the stock Node binding passes only deviceId to
 * TensorRT; scripts/build-onnxruntime-jetson.sh patches it to forward these keys.
 */
export function tensorrtProviderOptions(trt: TensorRtSettings, precision: 'fp32' | 'int8'): Record<string, string> {
  return {
    trt_engine_cache_enable: '1',
    trt_engine_cache_path: trt.engineCacheDir,
    // Explicit quantization: TensorRT takes the scales from the Q/DQ nodes, no calibration table.
    // Only for int8 models: an fp32 model in int8 mode would ask for a calibration table.
    trt_int8_enable: trt.int8 && precision === 'int8' ? '1' : '0',
    trt_fp16_enable: trt.fp16 ? '1' : '0',
  };
}

type EpConfig = NonNullable<ort.InferenceSession.SessionOptions['executionProviders']>[number];

/** onnxruntime session config keys for a pool of `threads` threads (see sessionOptions). */
export function spinSettings(threads: number): Record<string, string> {
  return threads > 1
    ? { 'intra_op.allow_spinning': '1', 'inter_op.allow_spinning': '0', force_spinning_stop: '1' }
    : { 'intra_op.allow_spinning': '0', 'inter_op.allow_spinning': '0' };
}

/** Session options for one provider list; pure, so the option building is testable without a GPU. */
export function sessionOptions(
  providers: readonly ExecutionProvider[],
  threads: number,
  model: { precision?: 'fp32' | 'int8'; tensorrt?: TensorRtSettings } = {},
): ort.InferenceSession.SessionOptions {
  const eps = providers.map((p): EpConfig => {
    if (p === 'tensorrt' && model.tensorrt) {
      // Extra keys ride along on the provider object; the binding ignores what it does not read.
      return { name: 'tensorrt', deviceId: 0, ...tensorrtProviderOptions(model.tensorrt, model.precision ?? 'fp32') } as EpConfig;
    }
    return p;
  });
  return {
    executionProviders: eps,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Each session owns a thread pool. Workers left spinning after a run would steal the cores
    // from the next model (and from JPEG decode), tripling latency here; never spinning makes
    // every parallel section wait for a sleeping thread to wake. So a multi-threaded session
    // spins during its run and stops the moment the run returns (force_spinning_stop): the
    // detector's 2-thread run went from 2.25 to about 1.85 ms, the pipeline about 0.45 ms faster
    // (paired, same images, one process).
    extra: { session: spinSettings(threads) },
  };
}

/** Candidate lists with their session options, ready to try in order (main thread and worker alike). */
export function sessionCandidates(opts: SessionOptions, threads: number): { provider: ExecutionProvider; options: ort.InferenceSession.SessionOptions }[] {
  const lists = providerCandidates(opts.executionProviders);
  // TensorRT creates only the last folder of the cache path; the store folder may be fresh.
  if (opts.tensorrt && lists[0].includes('tensorrt')) mkdirSync(opts.tensorrt.engineCacheDir, { recursive: true, mode: 0o700 });
  return lists.map((list) => ({ provider: list[0], options: sessionOptions(list, threads, opts) }));
}

export async function createModelSession(model: string | Uint8Array, label: string, opts: SessionOptions): Promise<ModelSession> {
  const log = opts.log ?? createLogger('vision');
  const threads = opts.intraOpThreads > 0 ? opts.intraOpThreads : availableParallelism();
  const candidates = sessionCandidates(opts, threads);
  let firstErr: unknown;
  let lastErr: unknown;
  for (const { provider, options } of candidates) {
    try {
      const session =
        typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
      if (provider !== candidates[0].provider) {
        log.warn(`${label}: execution provider ${candidates[0].provider} unavailable, running on ${provider}`, {
          // Why the preferred provider failed, not why a later fallback did.
          reason: firstErr instanceof Error ? firstErr.message.split('\n')[0] : undefined,
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
      firstErr ??= err;
      lastErr = err;
    }
  }
  throw new Error(`${label}: cannot create an inference session: ${(lastErr as Error)?.message ?? lastErr}`);
}
