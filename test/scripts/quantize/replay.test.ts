/**
 * npm install on a machine without calibration images: the int8 models are rebuilt from the fp32
 * files and the calibration recorded in scripts/quantize/recipes.json, byte for byte (sha256),
 * and a rebuild that differs is refused, never installed.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../../core/models/fetch.ts';
import { loadInt8Model } from '../../../core/models/artifact.ts';
import { prepareFromRecord, quantizeModel } from '../../../scripts/quantize/index.ts';
import { calibrationRecordSchema, decodeF64, encodeF64 } from '../../../scripts/quantize/record.ts';
import { readRecipes, replayRecipe, RecipeReplayError, writeRecipes } from '../../../scripts/quantize/recipes.ts';
import { hasModels, repoRoot, skipReason } from '../../helpers.ts';
import { convAddModel, samples } from './graphs.ts';

const run = promisify(execFile);
const tmp: string[] = [];
const tempDir = (tag: string) => {
  const d = mkdtempSync(join(tmpdir(), `portier-${tag}-`));
  tmp.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

describe('recorded calibration', () => {
  it('keeps float64 vectors bit for bit', () => {
    const v = Float64Array.from([0, -0, 1 / 3, Math.PI * 1e-300, 1.7976931348623157e308, -5e-324]);
    expect(Object.is(decodeF64(encodeF64(v))[1], -0)).toBe(true);
    expect([...decodeF64(encodeF64(v))]).toEqual([...v]);
  });

  it('rebuilds the calibrated bytes of a small graph without its inputs', async () => {
    const fp32 = convAddModel();
    const calibrated = await quantizeModel(fp32, samples(16, [1, 3, 8, 8], 11), { method: 'percentile', percentile: 99.9 });
    // Through JSON, as recipes.json stores it.
    const record = calibrationRecordSchema.parse(JSON.parse(JSON.stringify(calibrated.calibration)));
    expect(Object.keys(record.ranges).length).toBe(calibrated.report.activations);
    const replayed = (await prepareFromRecord(fp32, record)).build('percentile', { percentile: 99.9 });
    expect(sha256(replayed.bytes)).toBe(sha256(calibrated.bytes));
    const { [Object.keys(record.ranges)[0]]: _dropped, ...fewer } = record.ranges;
    await expect(prepareFromRecord(fp32, { ...record, ranges: fewer }).then((p) => p.build('percentile'))).rejects.toThrow(/was not calibrated/);
  });
});

describe.skipIf(skipReason(hasModels, 'models/*.onnx missing (npm install fetches them): int8 replay from recipes.json not tested'))(
  'int8 models from recipes.json, no calibration images',
  () => {
    const { recipes } = readRecipes();
    const names = ['fr_detect', 'fr_landmark', 'fr_feature', 'fr_liveness'] as const;
    const fp32 = (name: string) => readFileSync(join(repoRoot, 'models', `${name}.onnx`));

    it.each(names)('%s: rebuilt from the fp32 model and the recorded ranges gives the recorded sha256', async (name) => {
      expect(recipes[name]?.calibration, `${name} recipe carries its calibration`).toBeDefined();
      const res = await replayRecipe(name, fp32(name), recipes[name]);
      expect(sha256(res.bytes)).toBe(recipes[name].sha256);
    });

    it('refuses a rebuild whose bytes differ from the recorded sha256', async () => {
      const r = recipes.fr_landmark;
      const [t, [lo, hi]] = Object.entries(r.calibration!.ranges)[3];
      const nudged = { ...r, calibration: { ...r.calibration!, ranges: { ...r.calibration!.ranges, [t]: [lo, hi * 1.01] as [number, number] } } };
      await expect(replayRecipe('fr_landmark', fp32('fr_landmark'), nudged)).rejects.toThrow(RecipeReplayError);
      await expect(replayRecipe('fr_landmark', fp32('fr_landmark'), nudged)).rejects.toThrow(/recipe records [0-9a-f]{64}.*refusing it/);
      await expect(replayRecipe('fr_landmark', fp32('fr_landmark'), { ...r, calibration: undefined })).rejects.toThrow(/no recorded calibration/);
    });

    const install = (modelDir: string, extra: string[] = []) =>
      run(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/quantize.ts'), '--if-needed', '--model-dir', modelDir, '--models', 'fr_landmark', ...extra], {
        cwd: repoRoot,
        env: { ...process.env, PORTIER_SHARED: tempDir('no-shared'), PORTIER_SKIP_QUANTIZE: '' },
      });

    it('npm install step (--if-needed) writes the recorded int8 model and a sidecar the engine accepts', async () => {
      const dir = tempDir('models');
      copyFileSync(join(repoRoot, 'models/fr_landmark.onnx'), join(dir, 'fr_landmark.onnx'));
      const { stderr } = await install(dir);
      expect(stderr).toMatch(/fr_landmark: int8 model rebuilt from the recorded calibration/);
      const { bytes, manifest } = loadInt8Model(dir, 'fr_landmark');
      expect(sha256(bytes)).toBe(recipes.fr_landmark.sha256);
      expect(manifest.built).toMatch(/replayed/);
      expect((await install(dir)).stderr).toMatch(/present, verified and as recorded/);
    }, 60_000);

    it('npm install step refuses loudly and installs nothing when the rebuild differs, without failing', async () => {
      const dir = tempDir('models');
      copyFileSync(join(repoRoot, 'models/fr_landmark.onnx'), join(dir, 'fr_landmark.onnx'));
      const file = readRecipes();
      const r = file.recipes.fr_landmark;
      file.recipes.fr_landmark = { ...r, sha256: 'f'.repeat(64) };
      const recipesFile = join(dir, 'recipes.json');
      writeRecipes(file, recipesFile);
      const { stderr } = await install(dir, ['--recipes', recipesFile]); // exit code 0, or execFile rejects
      expect(stderr).toMatch(/REFUSED fr_landmark: .*refusing it/);
      expect(stderr).toMatch(/the engine runs fr_landmark in fp32/);
      expect(existsSync(join(dir, 'fr_landmark.int8.onnx'))).toBe(false);
    }, 60_000);
  },
);
