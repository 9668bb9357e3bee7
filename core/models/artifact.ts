/**
 * The int8 model files `npm run quantize` writes and how to check one before loading it:
 * `models/<name>.int8.onnx` plus the sidecar `models/<name>.int8.json` naming the fp32 source
 * (by sha256) and the int8 file's own sha256. A stale int8 file (made from other fp32 weights)
 * or a modified one is refused, as a swapped fp32 model is.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PINNED_SHA256, type AnyModelName } from './manifest.ts';

/** `models/fr_feature.onnx` -> `models/fr_feature.int8.onnx`. */
export function int8ModelPath(modelDir: string, name: string): string {
  return join(modelDir, `${name}.int8.onnx`);
}

/** Sidecar written next to an int8 model: source hash, own hash, calibration used, accuracy. */
export function int8ManifestPath(modelDir: string, name: string): string {
  return join(modelDir, `${name}.int8.json`);
}

export interface Int8Manifest {
  quantizer: string;
  source: string;
  source_sha256: string;
  sha256: string;
  bytes: number;
  calibration: Record<string, unknown>;
  evaluation: Record<string, unknown>;
  [k: string]: unknown;
}

export class Int8ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Int8ModelError';
  }
}

/**
 * Reads and checks `models/<name>.int8.onnx` against its sidecar: the sidecar must exist, name
 * the pinned fp32 model as its source, and carry the int8 file's sha256. Returns the bytes
 * (for InferenceSession.create) and the sidecar. Throws Int8ModelError saying what is wrong.
 */
export function loadInt8Model(modelDir: string, name: AnyModelName): { bytes: Uint8Array; manifest: Int8Manifest } {
  const file = int8ModelPath(modelDir, name);
  const side = int8ManifestPath(modelDir, name);
  if (!existsSync(file)) throw new Int8ModelError(`${file} not found (run npm run quantize)`);
  if (!existsSync(side)) throw new Int8ModelError(`${side} not found: cannot check ${file} (run npm run quantize)`);
  let manifest: Int8Manifest;
  try {
    manifest = JSON.parse(readFileSync(side, 'utf8')) as Int8Manifest;
  } catch (err) {
    throw new Int8ModelError(`${side} is not valid JSON: ${(err as Error).message}`);
  }
  if (manifest.source_sha256 !== PINNED_SHA256[name]) {
    throw new Int8ModelError(`${file} was made from other ${name} weights (sha256 ${manifest.source_sha256}); run npm run quantize again`);
  }
  const bytes = readFileSync(file);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== manifest.sha256) {
    throw new Int8ModelError(`${file} has sha256 ${actual}, its sidecar says ${manifest.sha256}: refusing it (modified or torn file)`);
  }
  return { bytes, manifest };
}
