/**
 * The second embedding end to end on this machine: npm install's int8 step rebuilds
 * mobilefacenet.int8.onnx from recipes.json byte for byte, and SecondEmbedder opens it and gives
 * unit-length 192-d embeddings that tell two people apart and agree with fp32.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInt8Model } from '../../../core/models/artifact.ts';
import { sha256 } from '../../../core/models/fetch.ts';
import { defaultVisionConfig } from '../../../core/vision/config.ts';
import { cosine } from '../../../core/vision/embedder.ts';
import { VisionEngine } from '../../../core/vision/engine.ts';
import { SecondEmbedder } from '../../../core/vision/second-embedder.ts';
import { readRecipes } from '../../../scripts/quantize/recipes.ts';
import { fixture, repoRoot, skipReason } from '../../helpers.ts';

const modelDir = join(repoRoot, 'models');
const ready = existsSync(join(modelDir, 'mobilefacenet.onnx')) && existsSync(join(modelDir, 'fr_feature.onnx')) && !!readRecipes().recipes.mobilefacenet;
const tmp = mkdtempSync(join(tmpdir(), 'portier-mfn-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(skipReason(ready, 'models/mobilefacenet.onnx (npm run fetch-models) or its recipe absent'))('second embedding model', () => {
  const crops: Float32Array[] = [];
  beforeAll(async () => {
    const cfg = defaultVisionConfig();
    cfg.modelDir = modelDir;
    const engine = await VisionEngine.create(cfg, { onModelInput: (k, d) => (k === 'feature' ? crops.push(Float32Array.from(d)) : undefined) });
    try {
      for (const f of ['grace_hopper.jpg', 'astronaut_eileen_collins.png']) await engine.analyzeImage(readFileSync(fixture(f)), { embed: 'primary', liveness: false });
    } finally {
      await engine.close();
    }
  });

  it('is rebuilt at install from the recorded recipe, byte for byte, without images', async () => {
    copyFileSync(join(modelDir, 'mobilefacenet.onnx'), join(tmp, 'mobilefacenet.onnx'));
    const { stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'scripts/quantize.ts'), '--if-needed', '--model-dir', tmp, '--models', 'mobilefacenet'],
      { cwd: repoRoot, env: { ...process.env, PORTIER_SHARED: join(tmp, 'no-shared'), PORTIER_SKIP_QUANTIZE: '' } },
    );
    expect(stderr).toMatch(/mobilefacenet: int8 model rebuilt from the recorded calibration/);
    expect(sha256(loadInt8Model(tmp, 'mobilefacenet').bytes)).toBe(readRecipes().recipes.mobilefacenet.sha256);
  }, 120_000);

  it('embeds the main embedder\'s crop: unit length, 192-d, int8 close to fp32, two people apart', async () => {
    const opts = { modelDir: tmp, executionProviders: ['cpu' as const], intraOpThreads: 1 };
    // The int8 file is the one the previous test rebuilt into tmp.
    const int8 = await SecondEmbedder.create({ ...opts, precision: 'int8' });
    const fp32 = await SecondEmbedder.create({ ...opts, precision: 'fp32' });
    expect([int8.precision, fp32.precision]).toEqual(['int8', 'fp32']);
    const e8 = await Promise.all(crops.map((c) => int8.embed(c)));
    const e32 = await Promise.all(crops.map((c) => fp32.embed(c)));
    expect(e8[0]).toHaveLength(192);
    expect(cosine(e8[0], e8[0])).toBeCloseTo(1, 5);
    for (let i = 0; i < crops.length; i++) expect(cosine(e8[i], e32[i])).toBeGreaterThan(0.98);
    expect(cosine(e32[0], e32[1])).toBeLessThan(0.5);
    await Promise.all([int8.release(), fp32.release()]);
  });
});
