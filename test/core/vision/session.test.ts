import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { addLogSink, type LogRecord } from '../../../core/log/logger.ts';
import { createModelSession } from '../../../core/vision/session.ts';
import { hasModels, repoRoot, skipReason } from '../../helpers.ts';

const cudaBundled = ort.listSupportedBackends?.().some((b: { name: string; bundled: boolean }) => b.name === 'cuda' && b.bundled) ?? false;

describe.skipIf(skipReason(hasModels, 'models/ missing'))('inference session factory', () => {
  it.skipIf(skipReason(!cudaBundled, 'this onnxruntime build has CUDA: fallback test needs one without'))('falls back to cpu with a logged warning when a provider is missing', async () => {
    const logs: LogRecord[] = [];
    const unsink = addLogSink((r) => logs.push(r));
    try {
      const s = await createModelSession(readFileSync(join(repoRoot, 'models/fr_eye.onnx')), 'eye', { executionProviders: ['cuda', 'cpu'], intraOpThreads: 1 });
      expect(s.provider).toBe('cpu');
      const out = await s.run(new Float32Array(24 * 24), [1, 1, 24, 24]);
      expect(out.output.data.length).toBe(2);
      await s.release();
    } finally {
      unsink();
    }
    expect(logs.some((l) => l.level === 'warn' && /execution provider cuda unavailable, running on cpu/.test(l.msg))).toBe(true);
  });

  it('explains a model that cannot be loaded', async () => {
    await expect(createModelSession(new Uint8Array([0, 1, 2]), 'junk', { executionProviders: ['cpu'], intraOpThreads: 1 })).rejects.toThrow(/junk: cannot create an inference session/);
  });
});
