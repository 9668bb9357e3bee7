/**
 * Fusing cue features into one liveness decision per approach. Each cue's feature becomes
 * evidence in natural-log odds, weight x (feature - centre), capped so no single cue can carry
 * an approach alone beyond `cap`; a cue without evidence adds 0. The sum plus the intercept is
 * compared with the level's bar. The weights are a logistic regression fitted on development
 * recordings (scripts/eval/spoof-fit.ts), so each contribution reads as "this cue moved the odds
 * by e^x".
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CUE_NAMES, type CueName } from '../../core/vision/pad/types.ts';

export const cueWeightSchema = z.strictObject({
  weight: z.number().describe('Log-odds per unit of feature (positive: higher feature = more live).'),
  center: z.number().describe('Feature value that is neutral evidence.'),
  cap: z.number().min(0).default(4).describe('Largest contribution towards "attack", in log-odds.'),
  capLive: z
    .number()
    .min(0)
    .optional()
    .describe('Largest contribution towards "live" (default: cap). Small for cues whose absence proves little: an attack can hide a border, a live person need not blink.'),
});
export const calibrationSchema = z.strictObject({
  about: z.string().default('').describe('How and on what the weights were fitted.'),
  intercept: z.number().default(0),
  cues: z.partialRecord(z.enum(CUE_NAMES), cueWeightSchema),
});
export type Calibration = z.output<typeof calibrationSchema>;

const shipped = new URL('./calibration.json', import.meta.url);
export function loadCalibration(path = ''): Calibration {
  const file = path || shipped;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`liveness calibration ${String(file)}: ${(err as Error).message}`);
  }
  const r = calibrationSchema.safeParse(raw);
  if (!r.success) throw new Error(`liveness calibration ${String(file)}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

export type CueFeatures = Partial<Record<CueName, number | undefined>>;

export interface FusedLiveness {
  /** Fused natural-log odds that the approach is a live person. */
  logOdds: number;
  /** Each cue's contribution (cues without evidence or without a weight are absent). */
  contributions: Partial<Record<CueName, number>>;
  /** The cue that pulled hardest towards "attack", when any did. */
  weakest?: CueName;
}

export function fuse(cal: Calibration, features: CueFeatures): FusedLiveness {
  let logOdds = cal.intercept;
  const contributions: Partial<Record<CueName, number>> = {};
  let weakest: CueName | undefined;
  for (const name of CUE_NAMES) {
    const f = features[name];
    const w = cal.cues[name];
    if (f === undefined || !Number.isFinite(f) || !w) continue;
    const c = Math.max(-w.cap, Math.min(w.capLive ?? w.cap, w.weight * (f - w.center)));
    contributions[name] = c;
    logOdds += c;
    if (c < 0 && (weakest === undefined || c < contributions[weakest]!)) weakest = name;
  }
  return { logOdds, contributions, weakest };
}
