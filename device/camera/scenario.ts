/**
 * Scripted scenario for tests and demos: which clip plays when, e.g.
 * `[{ "clip": "walkup.mjpeg", "seconds": 3 }, { "idle": 2 }, { "clip": "faces/" }]`.
 * Clip paths are relative to the scenario file. A clip with `seconds` loops until that time is
 * up; without it, it plays once.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

export const scenarioSchema = z
  .array(
    z.union([
      z.strictObject({
        clip: z.string().min(1).describe('Folder, .mjpeg or video file, relative to the scenario file.'),
        seconds: z.number().positive().optional().describe('Play (looping) for this long; absent: play once.'),
      }),
      z.strictObject({ idle: z.number().min(0).describe('Seconds without frames (nobody at the door, camera still up).') }),
    ]),
  )
  .min(1);

export type ScenarioStep = { clip: string; seconds?: number } | { idle: number };

export async function loadScenario(file: string): Promise<ScenarioStep[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`scenario ${file}: ${(err as Error).message}`);
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`scenario ${file} is invalid: ${problems.join('; ')}`);
  }
  const base = dirname(file);
  return parsed.data.map((s) => ('clip' in s ? { ...s, clip: resolve(base, s.clip) } : s));
}
