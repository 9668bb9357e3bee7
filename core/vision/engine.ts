/**
 * The on-device vision engine: image or frame in; faces with box, landmarks, pose, quality
 * verdict, liveness and embedding out. Owns one onnxruntime session per model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { createLogger, type Logger } from '../log/logger.ts';
import { verifyModel } from '../models/fetch.ts';
import { Int8ModelError, loadInt8Model } from '../models/artifact.ts';
import type { ModelName } from '../models/manifest.ts';
import type { VisionConfig } from './config.ts';
import { detectFaces } from './detector.ts';
import { alignFace, embedAligned, FEATURE_DIMS } from './embedder.ts';
import { landmarks68to5, poseFromLandmarks, type Box, type HeadPose, type Point, type ScoredBox } from './geometry.ts';
import { decodeImage, type RgbImage } from './image.ts';
import { loadDecoder } from './jpeg.ts';
import { bindFrame, releaseFrame } from './resize.ts';
import { predictLandmarks } from './landmarks.ts';
import { predictLiveness } from './liveness.ts';
import { eyeOpenness, faceSize, qualityReasons, sharpnessAndBrightness, type QualityReason } from './quality.ts';
import { createModelSession, type ExecutionProvider, type ModelSession } from './session.ts';
import { createWorkerModelSession } from './worker-session.ts';

export type ModelKind = 'detect' | 'landmark' | 'feature' | 'liveness';
export const STAGES = ['decode', 'detect', 'landmarks', 'align', 'liveness', 'embed'] as const;
export type Stage = (typeof STAGES)[number];
/** Milliseconds spent per stage; analyze() adds to it so callers can sum over many images. */
export type StageTimes = Partial<Record<Stage, number>>;

export interface EngineHooks {
  /** Called with every tensor fed to a model (quantizer calibration, debugging). */
  onModelInput?: (model: ModelKind, data: Float32Array, dims: readonly number[]) => void;
  log?: Logger;
  /** Folder a relative vision.tensorrt.engineCacheDir resolves against (the device's store.dir); modelDir when absent. */
  storeDir?: string;
}

/** What /state, /metrics and the bench report per model: the file's precision and where it runs. */
export interface ModelRuntime {
  precision: 'fp32' | 'int8';
  provider: ExecutionProvider;
}

export interface FaceResult {
  box: Box;
  score: number;
  /** Eye centres, nose tip, mouth corners in source pixels. */
  landmarks: Point[];
  landmarks68: Point[];
  pose: HeadPose;
  quality: { ok: boolean; reasons: QualityReason[]; size: number; sharpness: number; brightness: number };
  eyesOpen?: [number, number];
  liveness?: { score: number; live: boolean; probs: number[] };
  embedding?: Float32Array;
  /** With keepAligned: a copy of the aligned crop the embedder got (3x112x112, (x - 127) / 128), for a second embedder. */
  aligned?: Float32Array;
}

export interface Analysis {
  width: number;
  height: number;
  faces: FaceResult[];
  /** Index of the face the image is "about" (central and large), -1 when there is none. */
  primary: number;
}

export interface AnalyzeOptions {
  /** Which faces get an embedding: every face, the primary one, those passing quality, or none. */
  embed?: 'all' | 'primary' | 'passing' | 'none';
  /**
   * Passive liveness for every face (true, the default), the primary face only, or none (false):
   * the caller skips it on frames whose faces already have a liveness verdict.
   */
  liveness?: boolean | 'primary';
  eyes?: boolean;
  timings?: StageTimes;
  /** Copy the aligned crop into FaceResult.aligned for every face that gets an embedding. */
  keepAligned?: boolean;
}

const FILES: Record<ModelKind | 'eye', ModelName> = {
  detect: 'fr_detect',
  landmark: 'fr_landmark',
  feature: 'fr_feature',
  liveness: 'fr_liveness',
  eye: 'fr_eye',
};

/**
 * Model input tensors reused across analyze() calls instead of allocated per call (the detector's
 * alone is 900 KB). Each call takes its own and gives them back, so concurrent calls never share
 * one.
 */
class TensorPool {
  private readonly free = new Map<number, Float32Array[]>();
  take(size: number): Float32Array {
    return this.free.get(size)?.pop() ?? new Float32Array(size);
  }
  give(...bufs: Float32Array[]): void {
    for (const b of bufs) {
      const list = this.free.get(b.length) ?? [];
      if (list.length < 4) list.push(b);
      this.free.set(b.length, list);
    }
  }
}

const DETECT_SIZE = 3 * 240 * 320;
const LANDMARK_SIZE = 64 * 64;
const ALIGNED_SIZE = 3 * 112 * 112;
const LIVENESS_SIZE = 3 * 128 * 128;
const EYE_SIZE = 24 * 24;

/** One analyze() call's per-face input tensors. */
interface FaceBuffers {
  landmark: Float32Array;
  aligned: Float32Array;
  liveness: Float32Array;
  eye: Float32Array;
}

/** Pick the face nearest the image centre among those at least a third the area of the largest. */
export function primaryFace(boxes: Box[], width: number, height: number): number {
  if (!boxes.length) return -1;
  const area = (b: Box) => (b[2] - b[0]) * (b[3] - b[1]);
  const biggest = Math.max(...boxes.map(area));
  let best = -1;
  let bestD = Infinity;
  boxes.forEach((b, i) => {
    if (area(b) < biggest / 3) return;
    const d = Math.hypot((b[0] + b[2]) / 2 - width / 2, (b[1] + b[3]) / 2 - height / 2);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return best;
}

export class VisionEngine {
  private readonly pool = new TensorPool();

  private constructor(
    readonly config: VisionConfig,
    private readonly sessions: Record<ModelKind | 'eye', ModelSession>,
    readonly precision: Record<ModelKind, 'fp32' | 'int8'>,
    private readonly hooks: EngineHooks,
  ) {}

  static async create(config: VisionConfig, hooks: EngineHooks = {}): Promise<VisionEngine> {
    const log = hooks.log ?? createLogger('vision');
    const { engineCacheDir, ...trt } = config.tensorrt;
    const tensorrt = { ...trt, engineCacheDir: isAbsolute(engineCacheDir) ? engineCacheDir : join(hooks.storeDir ?? config.modelDir, engineCacheDir) };
    const base = { executionProviders: config.executionProviders, intraOpThreads: config.intraOpThreads, tensorrt, log };
    const precision = {} as Record<ModelKind, 'fp32' | 'int8'>;
    // While liveness runs on its worker (one core), the models that run beside it get the other
    // cores: with two cores a second intra-op thread gained these small models nothing (int8
    // embedding 3.3 vs 3.5 ms alone, without spinning), and a third thread on two cores
    // stretched the parallel section. The detector runs alone and keeps every core.
    const cores = config.intraOpThreads > 0 ? config.intraOpThreads : availableParallelism();
    const beside = config.parallelLiveness ? Math.max(1, cores - 1) : cores;
    const threads: Record<ModelKind | 'eye', number> = { detect: cores, liveness: cores, landmark: beside, feature: beside, eye: beside };
    const load = async (kind: ModelKind | 'eye'): Promise<ModelSession> => {
      const name = FILES[kind];
      // Liveness depends only on the face box, so it can run beside landmarks + embedding.
      const open = (model: string | Uint8Array, label: string, p: 'fp32' | 'int8') => {
        const opts = { ...base, precision: p, intraOpThreads: threads[kind] };
        return kind === 'liveness' && config.parallelLiveness ? createWorkerModelSession(model, label, { ...opts, threads: 1 }) : createModelSession(model, label, opts);
      };
      const fp32 = join(config.modelDir, `${name}.onnx`);
      if (kind !== 'eye' && config.precision[kind] === 'int8') {
        try {
          // Checked against its sidecar like the fp32 file is against the pinned hash.
          const { bytes } = loadInt8Model(config.modelDir, name);
          precision[kind] = 'int8';
          return open(bytes, `${name} (int8)`, 'int8');
        } catch (err) {
          if (!(err instanceof Int8ModelError)) throw err;
          log.warn(`${name}: using fp32 because the int8 model is unusable: ${err.message}`);
        }
      }
      if (kind !== 'eye') precision[kind] = 'fp32';
      if (!existsSync(fp32)) throw new Error(`model ${fp32} is missing: run npm run fetch-models`);
      const bytes = readFileSync(fp32);
      verifyModel(name, bytes, fp32);
      return open(bytes, name, 'fp32');
    };
    const kinds = ['detect', 'landmark', 'feature', 'liveness', 'eye'] as const;
    const [loaded] = await Promise.all([Promise.all(kinds.map(load)), loadDecoder()]);
    const sessions = Object.fromEntries(kinds.map((k, i) => [k, loaded[i]])) as Record<ModelKind | 'eye', ModelSession>;
    return new VisionEngine(config, sessions, precision, hooks);
  }

  decode(buf: Uint8Array): Promise<RgbImage> {
    return decodeImage(buf, { maxSide: this.config.decodeMaxSide });
  }

  async analyzeImage(buf: Uint8Array, opts: AnalyzeOptions = {}): Promise<Analysis> {
    const t0 = performance.now();
    const img = await this.decode(buf);
    if (opts.timings) opts.timings.decode = (opts.timings.decode ?? 0) + performance.now() - t0;
    return this.analyze(img, opts);
  }

  async analyze(img: RgbImage, opts: AnalyzeOptions = {}): Promise<Analysis> {
    // The frame is copied into the pixel kernel's memory once; the crops below read it there.
    bindFrame(img);
    try {
      return await this.analyzeBound(img, opts);
    } finally {
      releaseFrame(img);
    }
  }

  private async analyzeBound(img: RgbImage, opts: AnalyzeOptions): Promise<Analysis> {
    const cfg = this.config;
    const times = opts.timings;
    let t = performance.now();
    const detBuf = this.pool.take(DETECT_SIZE);
    let dets: ScoredBox[];
    try {
      dets = await detectFaces(this.sessions.detect, img, cfg.detector, detBuf, this.hook('detect'));
    } finally {
      this.pool.give(detBuf);
    }
    if (times) times.detect = (times.detect ?? 0) + performance.now() - t;
    const primary = primaryFace(dets.map((d) => d.box), img.width, img.height);
    const faces: FaceResult[] = [];
    if (!dets.length) return { width: img.width, height: img.height, faces, primary };
    const bufs: FaceBuffers = {
      landmark: this.pool.take(LANDMARK_SIZE),
      aligned: this.pool.take(ALIGNED_SIZE),
      liveness: this.pool.take(LIVENESS_SIZE),
      eye: this.pool.take(EYE_SIZE),
    };
    // Each face's model runs are awaited before the next face starts, so one set of buffers
    // serves them all; it goes back to the pool only once nothing can still be reading it.
    const pending: { live?: Promise<unknown> } = {};
    try {
      for (let i = 0; i < dets.length; i++) faces.push(await this.analyzeFace(img, dets, i, primary, opts, bufs, pending));
    } finally {
      await pending.live?.catch(() => {});
      this.pool.give(bufs.landmark, bufs.aligned, bufs.liveness, bufs.eye);
    }
    return { width: img.width, height: img.height, faces, primary };
  }

  private hook(kind: ModelKind): ((d: Float32Array, dims: readonly number[]) => void) | undefined {
    const on = this.hooks.onModelInput;
    return on ? (d, dims) => on(kind, d, dims) : undefined;
  }

  private async analyzeFace(
    img: RgbImage,
    dets: ScoredBox[],
    i: number,
    primary: number,
    opts: AnalyzeOptions,
    bufs: FaceBuffers,
    pending: { live?: Promise<unknown> },
  ): Promise<FaceResult> {
    const cfg = this.config;
    const times = opts.timings;
    const tick = (stage: Stage, since: number) => {
      const now = performance.now();
      if (times) times[stage] = (times[stage] ?? 0) + now - since;
      return now;
    };
    const { box, score } = dets[i];
    // Started first: on a worker thread it runs while landmarks and embedding run here.
    const tLive = performance.now();
    const wantLive = opts.liveness === 'primary' ? i === primary : opts.liveness !== false;
    const live = wantLive
      ? predictLiveness(this.sessions.liveness, img, box, cfg.liveness, bufs.liveness, this.hook('liveness')).then((l) => {
          if (times) times.liveness = (times.liveness ?? 0) + performance.now() - tLive;
          return l;
        })
      : undefined;
    live?.catch(() => {}); // awaited below; keep an early failure from counting as unhandled
    pending.live = live;
    let t = performance.now();
    const p68 = await predictLandmarks(this.sessions.landmark, img, box, bufs.landmark, this.hook('landmark'));
    const p5 = landmarks68to5(p68);
    t = tick('landmarks', t);
    alignFace(img, p5, bufs.aligned);
    const pose = poseFromLandmarks(p5);
    const { sharpness, brightness } = sharpnessAndBrightness(bufs.aligned);
    const size = faceSize(box);
    const reasons = qualityReasons({ size, sharpness, brightness, pose }, cfg.quality);
    if (dets.length > 1 && !cfg.quality.allowMultipleFaces) reasons.push('multiple_faces');
    t = tick('align', t);
    const face: FaceResult = {
      box,
      score,
      landmarks: p5,
      landmarks68: p68,
      pose,
      quality: { ok: reasons.length === 0, reasons, size, sharpness, brightness },
    };
    if (opts.eyes) face.eyesOpen = await eyeOpenness(this.sessions.eye, img, p68, bufs.eye);
    const embedMode = opts.embed ?? 'all';
    const wantEmbed = embedMode === 'all' || (embedMode === 'primary' && i === primary) || (embedMode === 'passing' && face.quality.ok);
    if (wantEmbed) {
      t = performance.now();
      face.embedding = await embedAligned(this.sessions.feature, bufs.aligned, this.hook('feature'));
      if (opts.keepAligned) face.aligned = bufs.aligned.slice();
      tick('embed', t);
    }
    if (live) {
      const l = await live;
      face.liveness = { score: l.score, live: l.score >= cfg.liveness.threshold, probs: l.probs };
    }
    return face;
  }

  /** Liveness of one face box, optionally with a different channel order (used to verify the setting). */
  async liveness(img: RgbImage, box: Box, overrides: Partial<VisionConfig['liveness']> = {}): Promise<{ score: number; probs: number[] }> {
    const opts = { ...this.config.liveness, ...overrides };
    const buf = this.pool.take(LIVENESS_SIZE);
    try {
      return await predictLiveness(this.sessions.liveness, img, box, opts, buf);
    } finally {
      this.pool.give(buf);
    }
  }

  /** Execution provider each model's session was created with (after any fallback), eye model included. */
  providers(): Record<ModelKind | 'eye', ExecutionProvider> {
    return Object.fromEntries(Object.entries(this.sessions).map(([k, s]) => [k, s.provider])) as Record<ModelKind | 'eye', ExecutionProvider>;
  }

  /** Precision and provider per model, for /state, /metrics and the bench JSON (the eye model is always fp32). */
  models(): Record<ModelKind | 'eye', ModelRuntime> {
    const providers = this.providers();
    const out = {} as Record<ModelKind | 'eye', ModelRuntime>;
    for (const k of Object.keys(providers) as (ModelKind | 'eye')[]) out[k] = { precision: k === 'eye' ? 'fp32' : this.precision[k], provider: providers[k] };
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.sessions).map((s) => s.release()));
  }
}

export { FEATURE_DIMS };
