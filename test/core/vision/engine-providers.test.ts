import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { defaultVisionConfig } from '../../../core/vision/config.ts';
import { VisionEngine } from '../../../core/vision/engine.ts';
import { hasModels, repoRoot, skipReason } from '../../helpers.ts';

const gpuBundled = ort.listSupportedBackends?.().some((b: { name: string; bundled: boolean }) => (b.name === 'tensorrt' || b.name === 'cuda') && b.bundled) ?? false;

describe.skipIf(skipReason(hasModels, 'models/ missing: run npm install'))('engine providers', () => {
  it.skipIf(skipReason(!gpuBundled, 'this onnxruntime build has CUDA/TensorRT: the fallback test needs one without'))(
    'reports the provider each model really runs on after a TensorRT preference falls back, with the cache in the store folder',
    async () => {
      const store = mkdtempSync(join(tmpdir(), 'portier-store-'));
      const cfg = defaultVisionConfig();
      cfg.modelDir = join(repoRoot, 'models');
      cfg.executionProviders = ['tensorrt', 'cuda', 'cpu'];
      const engine = await VisionEngine.create(cfg, { storeDir: store });
      try {
        const models = engine.models();
        expect(Object.keys(models).sort()).toEqual(['detect', 'eye', 'feature', 'landmark', 'liveness']);
        for (const [k, m] of Object.entries(models)) {
          expect(m.provider).toBe('cpu');
          expect(m.precision).toBe(k === 'eye' ? 'fp32' : engine.precision[k as keyof typeof engine.precision]);
        }
        expect(existsSync(join(store, 'tensorrt-cache'))).toBe(true);
      } finally {
        await engine.close();
        rmSync(store, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
