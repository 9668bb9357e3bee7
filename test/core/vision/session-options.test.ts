import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { visionConfigSchema } from '../../../core/vision/config.ts';
import { providerCandidates, sessionCandidates, sessionOptions, tensorrtProviderOptions } from '../../../core/vision/session.ts';

const trt = { engineCacheDir: '/var/lib/portier/tensorrt-cache', int8: true, fp16: false };

describe('execution provider config', () => {
  it('accepts only providers a Node binding can be built with', () => {
    expect(visionConfigSchema.parse({ executionProviders: ['tensorrt', 'cuda', 'cpu'] }).executionProviders).toEqual(['tensorrt', 'cuda', 'cpu']);
    for (const p of ['xnnpack', 'webgpu', 'dml']) expect(() => visionConfigSchema.parse({ executionProviders: [p] })).toThrow();
    expect(visionConfigSchema.parse({}).tensorrt).toEqual({ engineCacheDir: 'tensorrt-cache', int8: true, fp16: false });
  });
});

describe('session option building', () => {
  it('tries each preference with the ones after it, cpu always last', () => {
    expect(providerCandidates(['tensorrt', 'cuda'])).toEqual([['tensorrt', 'cuda', 'cpu'], ['cuda', 'cpu'], ['cpu']]);
    expect(providerCandidates(['cpu', 'cuda'])).toEqual([['cuda', 'cpu'], ['cpu']]);
    expect(providerCandidates([])).toEqual([['cpu']]);
  });

  it('feeds int8 QDQ models to TensorRT int8 and caches engines in the given folder', () => {
    expect(tensorrtProviderOptions(trt, 'int8')).toEqual({
      trt_engine_cache_enable: '1',
      trt_engine_cache_path: '/var/lib/portier/tensorrt-cache',
      trt_int8_enable: '1',
      trt_fp16_enable: '0',
    });
    // An fp32 model in int8 mode would need a calibration table: int8 stays off for it.
    expect(tensorrtProviderOptions(trt, 'fp32').trt_int8_enable).toBe('0');
    expect(tensorrtProviderOptions({ ...trt, int8: false }, 'int8').trt_int8_enable).toBe('0');
    expect(tensorrtProviderOptions({ ...trt, fp16: true }, 'fp32').trt_fp16_enable).toBe('1');
  });

  it('puts the TensorRT options on the tensorrt provider entry only', () => {
    const so = sessionOptions(['tensorrt', 'cuda', 'cpu'], 2, { precision: 'int8', tensorrt: trt });
    expect(so.executionProviders).toEqual([
      { name: 'tensorrt', deviceId: 0, trt_engine_cache_enable: '1', trt_engine_cache_path: trt.engineCacheDir, trt_int8_enable: '1', trt_fp16_enable: '0' },
      'cuda',
      'cpu',
    ]);
    expect(so.intraOpNumThreads).toBe(2);
    expect(sessionOptions(['cpu'], 1).executionProviders).toEqual(['cpu']);
  });

  it('lets a multi-threaded pool spin only while it runs; a one-thread session never spins', () => {
    const session = (threads: number) => (sessionOptions(['cpu'], threads).extra as { session: Record<string, string> }).session;
    expect(session(2)).toMatchObject({ 'intra_op.allow_spinning': '1', force_spinning_stop: '1' });
    expect(session(1)).toMatchObject({ 'intra_op.allow_spinning': '0' });
    expect(session(1).force_spinning_stop).toBeUndefined();
  });

  it('creates the engine cache folder only when tensorrt is wanted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portier-trt-'));
    try {
      const cache = join(dir, 'store', 'tensorrt-cache');
      const cpuOnly = sessionCandidates({ executionProviders: ['cpu'], intraOpThreads: 1, tensorrt: { ...trt, engineCacheDir: cache } }, 1);
      expect(cpuOnly.map((c) => c.provider)).toEqual(['cpu']);
      expect(() => statSync(cache)).toThrow();
      const withTrt = sessionCandidates({ executionProviders: ['tensorrt', 'cuda'], intraOpThreads: 1, precision: 'int8', tensorrt: { ...trt, engineCacheDir: cache } }, 1);
      expect(withTrt.map((c) => c.provider)).toEqual(['tensorrt', 'cuda', 'cpu']);
      expect(statSync(cache).isDirectory()).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
