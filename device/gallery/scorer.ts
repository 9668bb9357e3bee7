/**
 * First-pass int8 scorer. The int8 template matrix, per-template scales, the widened query and
 * the output scores all live in ONE WebAssembly memory; with the `wasm-simd` kernel that memory
 * is shared, so worker threads score disjoint row ranges of the same matrix in place (no copies,
 * no messages on the hot path: a search is signalled through Atomics on a control block).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createLogger } from '../../core/log/logger.ts';
import { kernelWasmBase64 } from './kernel-wasm.ts';

const log = createLogger('gallery');
const PAGE = 65536;
const MAX_PAGES = 65536; // wasm32 limit: 4 GiB
/** Below this many rows waking workers costs more than it saves. */
const PARALLEL_MIN_ROWS = 8192;
/** A worker that does not finish its slice in this time is treated as dead. */
const WORKER_TIMEOUT_MS = 5000;

export type KernelType = 'wasm-simd' | 'js';

// Control block slots (Int32) per worker.
const GEN = 0;
const DONE = 1;
const ARGS = 2; // q, t, scales, out, start, end, dim

const workerSource = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl } = workerData;
const scores = new WebAssembly.Instance(module, { env: { memory } }).exports.scores;
const c = new Int32Array(ctrl);
let seen = 0;
for (;;) {
  Atomics.wait(c, ${GEN}, seen);
  const gen = Atomics.load(c, ${GEN});
  if (gen < 0) break;
  if (gen === seen) continue;
  seen = gen;
  scores(c[${ARGS}], c[${ARGS + 1}], c[${ARGS + 2}], c[${ARGS + 3}], c[${ARGS + 4}], c[${ARGS + 5}], c[${ARGS + 6}]);
  Atomics.store(c, ${DONE}, gen);
  Atomics.notify(c, ${DONE});
}
`;

interface WorkerSlot {
  worker: Worker;
  ctrl: Int32Array;
  alive: boolean;
}

type ScoresFn = (q: number, t: number, scales: number, out: number, start: number, end: number, dim: number) => void;

export function wasmSimdSupported(): boolean {
  try {
    return WebAssembly.validate(Buffer.from(kernelWasmBase64, 'base64'));
  } catch {
    return false;
  }
}

export interface ScorerOptions {
  dim: number;
  kernel: KernelType;
  /** Threads scoring in parallel, the calling thread included; 0 = all cores. */
  threads: number;
  /** Rows the memory may ever hold; fixes the shared memory's maximum size. */
  maxRows: number;
}

export class Int8Scorer {
  readonly dim: number;
  readonly kernel: KernelType;
  readonly maxRows: number;
  readonly memory: WebAssembly.Memory;
  capacity = 0;
  readonly queryPtr = 0;
  readonly templatesPtr: number;
  scalesPtr = 0;
  outPtr = 0;
  /** Views over the memory; rebuilt whenever it grows. */
  templates!: Int8Array;
  scales!: Float32Array;
  out!: Float32Array;
  query!: Int16Array;
  private scoresFn: ScoresFn;
  private workers: WorkerSlot[] = [];
  private gen = 0;

  constructor(opts: ScorerOptions) {
    if (opts.dim <= 0 || opts.dim % 32 !== 0) throw new Error(`gallery dim must be a positive multiple of 32, got ${opts.dim}`);
    this.dim = opts.dim;
    this.templatesPtr = Math.ceil((opts.dim * 2) / 64) * 64;
    const bytesPerRow = opts.dim + 8;
    this.maxRows = Math.min(opts.maxRows, Math.floor((MAX_PAGES * PAGE - this.templatesPtr) / bytesPerRow));
    let kernel = opts.kernel;
    if (kernel === 'wasm-simd' && !wasmSimdSupported()) {
      log.warn('WebAssembly SIMD unavailable; gallery falls back to the plain JS int8 kernel (slower)');
      kernel = 'js';
    }
    this.kernel = kernel;
    const maximum = Math.ceil((this.templatesPtr + this.maxRows * bytesPerRow) / PAGE);
    if (kernel === 'wasm-simd') {
      this.memory = new WebAssembly.Memory({ initial: 1, maximum, shared: true });
      const mod = new WebAssembly.Module(Buffer.from(kernelWasmBase64, 'base64'));
      this.scoresFn = new WebAssembly.Instance(mod, { env: { memory: this.memory } }).exports.scores as ScoresFn;
      const threads = opts.threads > 0 ? opts.threads : availableParallelism();
      for (let i = 1; i < threads; i++) this.workers.push(this.spawn(mod));
    } else {
      this.memory = new WebAssembly.Memory({ initial: 1, maximum });
      this.scoresFn = (q, t, s, o, start, end, dim) => jsScores(this.query, this.templates, this.scales, this.out, start, end, dim);
    }
    this.refreshViews();
  }

  get threadCount(): number {
    return 1 + this.workers.filter((w) => w.alive).length;
  }

  private spawn(mod: WebAssembly.Module): WorkerSlot {
    const ctrl = new Int32Array(new SharedArrayBuffer(16 * 4));
    const worker = new Worker(workerSource, { eval: true, workerData: { module: mod, memory: this.memory, ctrl: ctrl.buffer } });
    worker.unref();
    const slot: WorkerSlot = { worker, ctrl, alive: true };
    worker.on('error', (err) => {
      slot.alive = false;
      log.error('gallery scoring worker failed; continuing with fewer threads', { error: err.message });
    });
    worker.on('exit', () => {
      slot.alive = false;
    });
    return slot;
  }

  private refreshViews(): void {
    const buf = this.memory.buffer;
    this.query = new Int16Array(buf, this.queryPtr, this.dim);
    this.templates = new Int8Array(buf, this.templatesPtr, this.capacity * this.dim);
    this.scales = new Float32Array(buf, this.scalesPtr, this.capacity);
    this.out = new Float32Array(buf, this.outPtr, this.capacity);
  }

  /** Grow to hold at least `rows` rows. Templates stay in place; the small scale array moves up. */
  ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    if (rows > this.maxRows) throw new Error(`gallery full: ${rows} templates exceed the maximum of ${this.maxRows} (gallery.maxTemplates)`);
    const cap = Math.min(this.maxRows, Math.max(rows, 1024, Math.ceil(this.capacity * 1.5)));
    const newScales = this.templatesPtr + cap * this.dim;
    const newOut = newScales + cap * 4;
    const needPages = Math.ceil((newOut + cap * 4) / PAGE);
    const havePages = this.memory.buffer.byteLength / PAGE;
    if (needPages > havePages) this.memory.grow(needPages - havePages);
    const bytes = new Uint8Array(this.memory.buffer);
    if (this.capacity > 0) bytes.copyWithin(newScales, this.scalesPtr, this.scalesPtr + this.capacity * 4);
    this.scalesPtr = newScales;
    this.outPtr = newOut;
    this.capacity = cap;
    this.refreshViews();
  }

  /** Fill `out[0..rows)` with int8 dot(query, row) * scale[row]. Blocks until every slice is done. */
  score(rows: number): void {
    const live = rows >= PARALLEL_MIN_ROWS ? this.workers.filter((w) => w.alive) : [];
    const parts = live.length + 1;
    const per = Math.ceil(rows / parts);
    const gen = ++this.gen;
    for (let i = 0; i < live.length; i++) {
      const c = live[i].ctrl;
      const start = Math.min(rows, (i + 1) * per);
      const end = Math.min(rows, start + per);
      c[ARGS] = this.queryPtr;
      c[ARGS + 1] = this.templatesPtr;
      c[ARGS + 2] = this.scalesPtr;
      c[ARGS + 3] = this.outPtr;
      c[ARGS + 4] = start;
      c[ARGS + 5] = end;
      c[ARGS + 6] = this.dim;
      Atomics.store(c, GEN, gen);
      Atomics.notify(c, GEN);
    }
    this.scoresFn(this.queryPtr, this.templatesPtr, this.scalesPtr, this.outPtr, 0, Math.min(rows, per), this.dim);
    for (let i = 0; i < live.length; i++) {
      const slot = live[i];
      const deadline = Date.now() + WORKER_TIMEOUT_MS;
      let done: number;
      while ((done = Atomics.load(slot.ctrl, DONE)) !== gen) {
        if (Date.now() > deadline) {
          slot.alive = false;
          void slot.worker.terminate();
          log.error('gallery scoring worker timed out; scoring its slice on this thread');
          const start = Math.min(rows, (i + 1) * per);
          this.scoresFn(this.queryPtr, this.templatesPtr, this.scalesPtr, this.outPtr, start, Math.min(rows, start + per), this.dim);
          break;
        }
        Atomics.wait(slot.ctrl, DONE, done, 50);
      }
    }
  }

  async close(): Promise<void> {
    for (const w of this.workers) {
      Atomics.store(w.ctrl, GEN, -1);
      Atomics.notify(w.ctrl, GEN);
    }
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers = [];
  }
}

/** Plain JS int8 kernel: the fallback where wasm SIMD is missing, and a cross-check in tests. */
export function jsScores(q: Int16Array, t: Int8Array, scales: Float32Array, out: Float32Array, start: number, end: number, dim: number): void {
  for (let i = start; i < end; i++) {
    const base = i * dim;
    let acc = 0;
    for (let j = 0; j < dim; j++) acc += q[j] * t[base + j];
    out[i] = acc * scales[i];
  }
}
