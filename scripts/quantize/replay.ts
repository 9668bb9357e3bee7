/**
 * The npm install path of the quantizer: find the int8 models that are missing, fail their
 * sidecar check or are not the recorded build, and rebuild them from the recorded calibration
 * (recipes.ts). A refused rebuild is announced with a banner and leaves no file behind.
 */
import { writeFileAtomicSync } from '../../core/fs/atomic.ts';
import { int8ManifestPath, int8ModelPath, loadInt8Model } from '../../core/models/artifact.ts';
import type { ModelName } from '../../core/models/manifest.ts';
import { int8Sidecar, replayRecipe, type Recipe } from './recipes.ts';

type Log = (message: string) => void;

/** A refused model must be noticed in an npm install log: a banner, not one line among many. */
const loud = (log: Log, lines: string[]) => {
  const bar = '='.repeat(78);
  for (const l of [bar, ...lines, bar]) log(l);
};

/** For npm install: the models whose int8 file is missing, fails its check or is not the recorded one. */
export function staleModels(modelDir: string, names: string[], recipes: Record<string, Recipe>, log: Log): string[] {
  return names.filter((n) => {
    try {
      const { manifest } = loadInt8Model(modelDir, n as ModelName);
      const want = recipes[n]?.sha256;
      if (want && manifest.sha256 !== want) {
        log(`${n}: the int8 model here (sha256 ${manifest.sha256.slice(0, 12)}...) is not the recorded one (${want.slice(0, 12)}...): rebuilding`);
        return true;
      }
      return false;
    } catch {
      return true;
    }
  });
}

/** Rebuilds each model from its recorded calibration; false when any was refused. */
export async function replayModels(
  modelDir: string,
  names: string[],
  recipes: Record<string, Recipe>,
  fp32: Record<string, Uint8Array>,
  log: Log,
): Promise<boolean> {
  let ok = true;
  for (const name of names) {
    const t0 = performance.now();
    const r = recipes[name];
    try {
      const res = await replayRecipe(name, fp32[name], r);
      writeFileAtomicSync(int8ModelPath(modelDir, name), res.bytes);
      // Sidecar last: a torn write leaves a model its sidecar does not vouch for (refused), never the reverse.
      writeFileAtomicSync(
        int8ManifestPath(modelDir, name),
        int8Sidecar(name, fp32[name], res.bytes, {
          ...r!,
          samples: r!.calibration!.samples,
          images: r!.calibration!.images,
          built: 'replayed from the calibration recorded in scripts/quantize/recipes.json',
        }),
      );
      const secs = Math.round((performance.now() - t0) / 100) / 10;
      log(`${name}: int8 model rebuilt from the recorded calibration, sha256 ${r!.sha256.slice(0, 16)}... as recorded (${res.bytes.length} bytes, ${secs}s)`);
    } catch (err) {
      ok = false;
      let now: string;
      try {
        loadInt8Model(modelDir, name as ModelName);
        now = `the int8 file already in ${modelDir} stays (it passes its sidecar check but is not the recorded build)`;
      } catch {
        now = `the engine runs ${name} in fp32 and says so at start`;
      }
      loud(log, [`REFUSED ${name}: ${(err as Error).message}`, `${now}; rebuild from images: npm run quantize -- --method recipe`]);
    }
  }
  return ok;
}
