/**
 * A model session on its own worker thread. onnxruntime-node serialises runs within one thread,
 * so a model that does not depend on the others (liveness needs only the face box) can run here
 * at the same time as landmarks and embedding on the main thread: both cores busy, lower latency.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { createLogger } from '../log/logger.ts';
import { sessionCandidates, type ExecutionProvider, type ModelOutput, type ModelSession, type SessionOptions } from './session.ts';

// Plain CommonJS so the worker needs no TypeScript loader (tsx, vitest and node all run it).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
(async () => {
  let session, provider, firstErr, lastErr;
  for (const c of workerData.candidates) {
    try { session = await ort.InferenceSession.create(workerData.model, c.options); provider = c.provider; break; }
    catch (e) { if (!firstErr) firstErr = e; lastErr = e; }
  }
  if (!session) throw lastErr;
  const input = session.inputNames[0];
  parentPort.on('message', async (m) => {
    if (m.release) { await session.release(); parentPort.postMessage({ released: true }); return; }
    try {
      const out = await session.run({ [input]: new ort.Tensor('float32', m.data, m.dims) });
      const res = {}; const transfer = [m.data.buffer];
      for (const [k, v] of Object.entries(out)) { const d = Float32Array.from(v.data); res[k] = { data: d, dims: v.dims }; transfer.push(d.buffer); }
      // The input buffer goes back too: the caller reuses it for its next run.
      parentPort.postMessage({ id: m.id, res, input: m.data }, transfer);
    } catch (e) { parentPort.postMessage({ id: m.id, error: String((e && e.message) || e), input: m.data }, [m.data.buffer]); }
  });
  parentPort.postMessage({ ready: true, provider, input, fallback: firstErr ? String(firstErr.message || firstErr) : undefined });
})().catch((e) => parentPort.postMessage({ fatal: String((e && e.message) || e) }));
`;

interface Pending {
  resolve: (v: Record<string, ModelOutput>) => void;
  reject: (e: Error) => void;
}

export async function createWorkerModelSession(model: Uint8Array | string, label: string, opts: SessionOptions & { threads: number }): Promise<ModelSession> {
  const log = opts.log ?? createLogger('vision');
  const candidates = sessionCandidates(opts, opts.threads);
  const wanted = candidates[0].provider;
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath, model, candidates } });
  worker.unref();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let failed: Error | undefined;
  const failAll = (err: Error) => {
    failed = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const ready = await new Promise<{ provider: ExecutionProvider; input: string; fallback?: string }>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', function first(m) {
      if (m.ready) {
        worker.off('message', first);
        resolve(m);
      } else if (m.fatal) reject(new Error(`${label}: cannot create an inference session: ${m.fatal}`));
    });
  });
  if (ready.provider !== wanted) log.warn(`${label}: execution provider ${wanted} unavailable, running on ${ready.provider}`, { reason: ready.fallback?.split('\n')[0] });
  // Input buffers travel to the worker and back (transferred both ways): no allocation per run.
  const spare: Float32Array<ArrayBuffer>[] = [];
  worker.on('message', (m: { id?: number; res?: Record<string, ModelOutput>; error?: string; input?: Float32Array<ArrayBuffer> }) => {
    if (m.id === undefined) return;
    if (m.input && spare.length < 4) spare.push(m.input);
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(new Error(`${label}: ${m.error}`));
    else p.resolve(m.res!);
  });
  worker.on('error', (err) => {
    log.error(`${label}: model worker failed`, { error: err.message });
    failAll(err);
  });
  worker.on('exit', (code) => failAll(new Error(`${label}: model worker exited (${code})`)));
  return {
    provider: ready.provider,
    inputName: ready.input,
    run(data, dims) {
      if (failed) return Promise.reject(failed);
      const id = nextId++;
      // Copy: the caller may reuse its buffer, and a transferred buffer would be detached.
      const i = spare.findIndex((b) => b.length === data.length);
      const copy: Float32Array<ArrayBuffer> = i >= 0 ? spare.splice(i, 1)[0] : new Float32Array(data.length);
      copy.set(data);
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, data: copy, dims }, [copy.buffer]);
      });
    },
    async release() {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}
