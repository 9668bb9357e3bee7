/** Shared test helpers: fixture paths, the ../shared data location, one engine per test file. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultVisionConfig, type VisionConfig } from '../core/vision/config.ts';
import { VisionEngine } from '../core/vision/engine.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const fixture = (name: string) => join(repoRoot, 'test/fixtures', name);
export const sharedDir = resolve(process.env.PORTIER_SHARED ?? join(repoRoot, '../shared'));
export const hasShared = existsSync(join(sharedDir, 'faces/pairs_lfw.tsv'));
export const hasModels = existsSync(join(repoRoot, 'models/fr_feature.onnx'));

/** Print why a suite is skipped, so a green run without ../shared is not mistaken for coverage. */
export function skipReason(cond: boolean, why: string): boolean {
  if (!cond) console.warn(`SKIPPED: ${why}`);
  return !cond;
}

export async function makeEngine(overrides: (c: VisionConfig) => void = () => {}): Promise<VisionEngine> {
  const cfg = defaultVisionConfig();
  cfg.modelDir = join(repoRoot, 'models');
  overrides(cfg);
  return VisionEngine.create(cfg);
}
