/**
 * Calibration and evaluation inputs for the quantizer: real preprocessed face tensors, captured
 * from the vision engine's `onModelInput` hook while it analyses a fixed, deterministic subset
 * of images (sorted paths, fixed stride). Calibration and evaluation subsets are disjoint.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { VisionConfig } from '../../core/vision/config.ts';
import type { ModelKind } from '../../core/vision/engine.ts';
import { VisionEngine } from '../../core/vision/engine.ts';
import type { FeedSample } from './calibrate.ts';

export const MODEL_KINDS: readonly ModelKind[] = ['detect', 'landmark', 'feature', 'liveness'];

const IMAGE_EXT = /\.(jpe?g|png)$/i;

/** Every image file under `dir`, sorted by path (byte order, locale-independent). */
export function listImages(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (IMAGE_EXT.test(e)) out.push(p);
    }
  };
  walk(dir);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * `count` files taken with a fixed stride from the sorted list, starting at `offset` (a fraction
 * of the stride, so two offsets give disjoint subsets).
 */
export function strideSubset(files: readonly string[], count: number, offset = 0): string[] {
  if (count <= 0 || !files.length) return [];
  const stride = Math.max(1, Math.floor(files.length / count));
  const start = Math.min(stride - 1, Math.floor(offset * stride));
  const out: string[] = [];
  for (let i = start; i < files.length && out.length < count; i += stride) out.push(files[i]);
  return out;
}

export type SamplesByModel = Record<ModelKind, FeedSample[]>;

export interface CaptureOptions {
  /** Engine config (fp32 everywhere: calibration must see the float pipeline). */
  config: VisionConfig;
  /** Most samples kept per model (in capture order). */
  maxPerModel?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs the fp32 engine over `files` and records every tensor fed to each model, as feeds for
 * that model's graph input (`input`).
 */
export async function captureModelInputs(files: readonly string[], opts: CaptureOptions): Promise<SamplesByModel> {
  const max = opts.maxPerModel ?? Infinity;
  const out: SamplesByModel = { detect: [], landmark: [], feature: [], liveness: [] };
  const config: VisionConfig = {
    ...opts.config,
    precision: { detect: 'fp32', landmark: 'fp32', feature: 'fp32', liveness: 'fp32' },
  };
  const engine = await VisionEngine.create(config, {
    onModelInput: (model, data, dims) => {
      const list = out[model];
      // The engine reuses its buffers: keep a copy.
      if (list && list.length < max) list.push({ input: { data: Float32Array.from(data), dims: [...dims] } });
    },
  });
  try {
    for (let i = 0; i < files.length; i++) {
      await engine.analyzeImage(readFileSync(files[i]), { embed: 'all', liveness: true });
      opts.onProgress?.(i + 1, files.length);
    }
  } finally {
    await engine.close();
  }
  return out;
}

export interface DatasetOptions {
  /** Face images (default ../shared/faces/img). */
  faceDir: string;
  /** Presentation-attack frames, live and fake (default ../shared/spoof), used for liveness. */
  spoofDir?: string;
  /** Face images for calibration (default 200). */
  calibrationImages?: number;
  /** Face images for evaluation, disjoint from calibration (default 60). */
  evaluationImages?: number;
}

export interface CalibrationSets {
  calibration: SamplesByModel;
  evaluation: SamplesByModel;
  /** Files used, relative to their folder, for the report. */
  files: { calibration: string[]; evaluation: string[] };
}

/**
 * Calibration set: `calibrationImages` face images by sorted path and fixed stride, plus the
 * even-indexed spoof frames (liveness sees attacks too). Evaluation: a disjoint face subset
 * (the stride shifted by half) plus the odd-indexed spoof frames.
 */
export async function buildCalibrationSets(config: VisionConfig, ds: DatasetOptions, log?: (m: string) => void): Promise<CalibrationSets> {
  const faces = listImages(ds.faceDir);
  if (!faces.length) throw new Error(`no images under ${ds.faceDir}`);
  const nCal = ds.calibrationImages ?? 200;
  const nEval = ds.evaluationImages ?? 60;
  const calFaces = strideSubset(faces, nCal, 0);
  const calSet = new Set(calFaces);
  const evalFaces = strideSubset(faces, nEval, 0.5).filter((f) => !calSet.has(f));
  const spoof = ds.spoofDir ? listImages(ds.spoofDir) : [];
  const calSpoof = spoof.filter((_, i) => i % 2 === 0);
  const evalSpoof = spoof.filter((_, i) => i % 2 === 1);

  const progress = (label: string) => (d: number, t: number) => {
    if (log && (d === t || d % 50 === 0)) log(`${label}: ${d}/${t} images`);
  };
  const calibration = await captureModelInputs(calFaces, { config, onProgress: progress('calibration') });
  const evaluation = await captureModelInputs(evalFaces, { config, onProgress: progress('evaluation') });
  if (spoof.length) {
    const cs = await captureModelInputs(calSpoof, { config, onProgress: progress('calibration (spoof)') });
    const es = await captureModelInputs(evalSpoof, { config, onProgress: progress('evaluation (spoof)') });
    calibration.liveness.push(...cs.liveness);
    evaluation.liveness.push(...es.liveness);
  }
  const rel = (base: string) => (f: string) => relative(base, f);
  return {
    calibration,
    evaluation,
    files: {
      calibration: [...calFaces.map(rel(ds.faceDir)), ...calSpoof.map(rel(ds.spoofDir ?? ''))],
      evaluation: [...evalFaces.map(rel(ds.faceDir)), ...evalSpoof.map(rel(ds.spoofDir ?? ''))],
    },
  };
}
