/**
 * The on-device vision engine: image or frame in; faces with box, landmarks, pose, quality
 * verdict, liveness and embedding out. Owns one onnxruntime session per model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { createLogger, type Logger } from '../log/logger.ts';
import { verifyModel } from '../models/fetch.ts';
import { Int8ModelError, loadInt8Model } from '../models/artifact.ts';
import type { ModelName } from '../models/manifest.ts';
import type { VisionConfig } from './config.ts';
import { detectFaces } from './detector.ts';
import { alignFace, embedAligned, FEATURE_DIMS } from './embedder.ts';
import { landmarks68to5, poseFromLandmarks, type Box, type HeadPose, type Point } from './geometry.ts';
import { decodeImage, type RgbImage } from './image.ts';
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
  liveness?: boolean;
  eyes?: boolean;
  timings?: StageTimes;
}

const FILES: Record<ModelKind | 'eye', ModelName> = {
  detect: 'fr_detect',
  landmark: 'fr_landmark',
  feature: 'fr_feature',
  liveness: 'fr_liveness',
  eye: 'fr_eye',
};

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
    const load = async (kind: ModelKind | 'eye'): Promise<ModelSession> => {
      const name = FILES[kind];
      // Liveness depends only on the face box, so it can run beside landmarks + embedding.
      const open = (model: string | Uint8Array, label: string, p: 'fp32' | 'int8') => {
        const opts = { ...base, precision: p };
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
    const loaded = await Promise.all(kinds.map(load));
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
    const cfg = this.config;
    const times = opts.timings;
    const hook = (kind: ModelKind) => (this.hooks.onModelInput ? (d: Float32Array, dims: readonly number[]) => this.hooks.onModelInput!(kind, d, dims) : undefined);
    const tick = (stage: Stage, since: number) => {
      const now = performance.now();
      if (times) times[stage] = (times[stage] ?? 0) + now - since;
      return now;
    };
    let t = performance.now();
    const dets = await detectFaces(this.sessions.detect, img, cfg.detector, new Float32Array(3 * 240 * 320), hook('detect'));
    t = tick('detect', t);
    const primary = primaryFace(dets.map((d) => d.box), img.width, img.height);
    const embedMode = opts.embed ?? 'all';
    const multiple = dets.length > 1 && !cfg.quality.allowMultipleFaces;
    const lmBuf = new Float32Array(64 * 64);
    const faces: FaceResult[] = [];
    for (let i = 0; i < dets.length; i++) {
      const { box, score } = dets[i];
      // Started first: on a worker thread it runs while landmarks and embedding run here.
      const tLive = performance.now();
      const live =
        opts.liveness !== false
          ? predictLiveness(this.sessions.liveness, img, box, cfg.liveness, new Float32Array(3 * 128 * 128), hook('liveness')).then((l) => {
              if (times) times.liveness = (times.liveness ?? 0) + performance.now() - tLive;
              return l;
            })
          : undefined;
      live?.catch(() => {}); // awaited below; keep an early failure from counting as unhandled
      t = performance.now();
      const p68 = await predictLandmarks(this.sessions.landmark, img, box, lmBuf, hook('landmark'));
      const p5 = landmarks68to5(p68);
      t = tick('landmarks', t);
      const aligned = new Float32Array(3 * 112 * 112);
      alignFace(img, p5, aligned);
      const pose = poseFromLandmarks(p5);
      const { sharpness, brightness } = sharpnessAndBrightness(aligned);
      const size = faceSize(box);
      const reasons = qualityReasons({ size, sharpness, brightness, pose }, cfg.quality);
      if (multiple) reasons.push('multiple_faces');
      t = tick('align', t);
      const face: FaceResult = {
        box,
        score,
        landmarks: p5,
        landmarks68: p68,
        pose,
        quality: { ok: reasons.length === 0, reasons, size, sharpness, brightness },
      };
      if (opts.eyes) face.eyesOpen = await eyeOpenness(this.sessions.eye, img, p68, new Float32Array(24 * 24));
      const wantEmbed = embedMode === 'all' || (embedMode === 'primary' && i === primary) || (embedMode === 'passing' && face.quality.ok);
      if (wantEmbed) {
        t = performance.now();
        face.embedding = await embedAligned(this.sessions.feature, aligned, hook('feature'));
        tick('embed', t);
      }
      if (live) {
        const l = await live;
        face.liveness = { score: l.score, live: l.score >= cfg.liveness.threshold, probs: l.probs };
      }
      faces.push(face);
    }
    return { width: img.width, height: img.height, faces, primary };
  }

  /** Liveness of one face box, optionally with a different channel order (used to verify the setting). */
  async liveness(img: RgbImage, box: Box, overrides: Partial<VisionConfig['liveness']> = {}): Promise<{ score: number; probs: number[] }> {
    const opts = { ...this.config.liveness, ...overrides };
    return predictLiveness(this.sessions.liveness, img, box, opts, new Float32Array(3 * 128 * 128));
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
