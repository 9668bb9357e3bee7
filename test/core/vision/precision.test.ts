import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addLogSink, type LogRecord } from '../../../core/log/logger.ts';
import { MODEL_NAMES } from '../../../core/models/manifest.ts';
import { hasModels, makeEngine, repoRoot, skipReason } from '../../helpers.ts';

const hasInt8 = existsSync(join(repoRoot, 'models/fr_feature.int8.onnx'));

describe.skipIf(skipReason(hasModels, 'models/ missing'))('model precision', () => {
  it('falls back to fp32 with a logged reason when an int8 file fails its check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portier-int8-'));
    const logs: LogRecord[] = [];
    const unsink = addLogSink((r) => logs.push(r));
    try {
      for (const n of MODEL_NAMES) copyFileSync(join(repoRoot, `models/${n}.onnx`), join(dir, `${n}.onnx`));
      writeFileSync(join(dir, 'fr_feature.int8.onnx'), 'tampered');
      writeFileSync(join(dir, 'fr_feature.int8.json'), JSON.stringify({ source_sha256: '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581', sha256: '00' }));
      const engine = await makeEngine((c) => {
        c.modelDir = dir;
        c.precision = { detect: 'int8', landmark: 'int8', feature: 'int8', liveness: 'int8' };
      });
      expect(engine.precision).toEqual({ detect: 'fp32', landmark: 'fp32', feature: 'fp32', liveness: 'fp32' });
      await engine.close();
      const warn = logs.find((l) => l.level === 'warn' && l.msg.startsWith('fr_feature: using fp32'));
      expect(warn?.msg).toMatch(/refusing it \(modified or torn file\)/);
      expect(logs.some((l) => l.msg.startsWith('fr_detect: using fp32') && /not found/.test(l.msg))).toBe(true);
    } finally {
      unsink();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(skipReason(hasInt8, 'int8 models not built (npm run quantize): int8 load check skipped'))('loads verified int8 models by default for every model', async () => {
    const engine = await makeEngine();
    expect(engine.precision).toEqual({ detect: 'int8', landmark: 'int8', feature: 'int8', liveness: 'int8' });
    await engine.close();
  });
});
