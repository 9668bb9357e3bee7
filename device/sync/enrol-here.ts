/**
 * enrol-here: capture a template of the person standing at the door, with liveness on. It needs
 * one face (and only one) of good quality that stays the same person over at least `minFrames`
 * consecutive frames, with mean liveness at or above the engine's threshold. The template comes
 * from a full-quality still when the camera offers one (node-libcamera on a Pi), checked to be
 * the same person, otherwise from the best frame of the run.
 */
import type { Analysis, AnalyzeOptions, FaceResult } from '../../core/vision/engine.ts';
import type { VisionConfig } from '../../core/vision/config.ts';
import { fromRawFrame, type RgbImage } from '../../core/vision/image.ts';
import type { Frame } from '../camera/types.ts';
import type { CaptureEnrolment, EnrolmentCapture } from './commands.ts';

/** What enrol-here needs of the vision engine (core/vision/engine.ts VisionEngine). */
export interface EnrolEngine {
  readonly config: Pick<VisionConfig, 'quality' | 'liveness' | 'match'>;
  decode(buf: Uint8Array): Promise<RgbImage>;
  analyze(img: RgbImage, opts?: AnalyzeOptions): Promise<Analysis>;
  analyzeImage(buf: Uint8Array, opts?: AnalyzeOptions): Promise<Analysis>;
}

export interface EnrolHereDeps {
  engine: EnrolEngine;
  /**
   * The next camera frame. The camera has one consumer: the daemon hands over the recognition
   * loop's frames (or pauses the loop and passes camera.nextFrame) for the capture's duration.
   */
  nextFrame: (signal: AbortSignal) => Promise<Frame>;
  /** camera.captureStill, where the driver has one. */
  captureStill?: () => Promise<Buffer>;
  /** Consecutive good frames required (default 3). */
  minFrames?: number;
}

export class EnrolHereError extends Error {
  override name = 'EnrolHereError';
}

interface Good {
  face: FaceResult & { embedding: Float32Array };
  live: number;
  quality: number;
}

/** Cosine similarity (0 for mismatched lengths or zero vectors). */
function similarity(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa && bb ? ab / Math.sqrt(aa * bb) : 0;
}

/** 0..1: 1 = at least twice the minimum size and sharpness the quality gates ask for. */
export function faceQuality(f: FaceResult, gates: Pick<VisionConfig['quality'], 'minFaceSize' | 'minSharpness'>): number {
  const s = Math.min(1, f.quality.size / Math.max(1, 2 * gates.minFaceSize));
  const b = Math.min(1, f.quality.sharpness / Math.max(1e-6, 2 * gates.minSharpness));
  return Math.round(s * b * 1000) / 1000;
}

export function createCaptureEnrolment(d: EnrolHereDeps): CaptureEnrolment {
  const need = d.minFrames ?? 3;
  return async ({ timeoutMs, signal }): Promise<EnrolmentCapture> => {
    const { engine } = d;
    const cfg = engine.config;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    signal?.addEventListener('abort', () => abort.abort(), { once: true });
    let run: Good[] = [];
    let lastProblem = 'nobody in front of the camera';
    try {
      while (!abort.signal.aborted) {
        let frame: Frame;
        try {
          frame = await d.nextFrame(abort.signal);
        } catch (err) {
          if (abort.signal.aborted) break;
          throw err;
        }
        const img = frame.format === 'jpeg' ? await engine.decode(frame.data) : fromRawFrame(frame.data, frame.width ?? 0, frame.height ?? 0, frame.format);
        const a = await engine.analyze(img, { embed: 'passing', liveness: true });
        const f = a.faces[0];
        if (a.faces.length !== 1 || !f.quality.ok || !f.embedding || !f.liveness) {
          lastProblem = a.faces.length === 0 ? 'no face found' : a.faces.length > 1 ? `${a.faces.length} faces in view, need exactly one` : `face rejected (${f.quality.reasons.join(', ') || 'no embedding'})`;
          run = [];
          continue;
        }
        // A different person stepping in restarts the run.
        if (run.length && similarity(run[0].face.embedding, f.embedding) < cfg.match.threshold) run = [];
        run.push({ face: f as Good['face'], live: f.liveness.score, quality: faceQuality(f, cfg.quality) });
        if (run.length > need) run.shift();
        if (run.length < need) continue;
        const live = run.reduce((s, g) => s + g.live, 0) / run.length;
        if (live < cfg.liveness.threshold) {
          lastProblem = `liveness too low (${live.toFixed(3)} < ${cfg.liveness.threshold})`;
          continue;
        }
        const best = run.reduce((a2, b2) => (b2.quality > a2.quality ? b2 : a2));
        const still = await stillTemplate(d, best.face.embedding);
        return { embedding: still?.embedding ?? best.face.embedding, live: Math.round(live * 1e4) / 1e4, quality: still?.quality ?? best.quality };
      }
      throw new EnrolHereError(`no usable live face within ${timeoutMs} ms (${lastProblem})`);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The still's embedding when it shows exactly the person of the live run, else null (frame template is used). */
async function stillTemplate(d: EnrolHereDeps, ref: Float32Array): Promise<{ embedding: Float32Array; quality: number } | null> {
  if (!d.captureStill) return null;
  try {
    const a = await d.engine.analyzeImage(await d.captureStill(), { embed: 'passing', liveness: false });
    const f = a.faces[0];
    if (a.faces.length !== 1 || !f.quality.ok || !f.embedding) return null;
    if (similarity(ref, f.embedding) < d.engine.config.match.threshold) return null;
    return { embedding: f.embedding, quality: faceQuality(f, d.engine.config.quality) };
  } catch {
    return null;
  }
}
