/**
 * Which cues run on this device: the enabled ones that make sense for the camera's spectrum.
 * A near-infrared sensor has no colour, and the passive model was trained on colour frames, so
 * those two cues are skipped there rather than fed frames they were never measured on.
 */
import { screenArtifactsCue } from '../../core/vision/pad/artifacts.ts';
import { blinkCue } from '../../core/vision/pad/blink.ts';
import { screenBorderCue } from '../../core/vision/pad/border.ts';
import { rigidMotionCue } from '../../core/vision/pad/motion.ts';
import { passiveCue } from '../../core/vision/pad/passive.ts';
import type { Cue, CueName } from '../../core/vision/pad/types.ts';
import type { LivenessConfig } from './config.ts';
import type { Calibration } from './fusion.ts';

export const ALL_CUES: Record<CueName, Cue> = {
  passive: passiveCue,
  screen_border: screenBorderCue,
  rigid_motion: rigidMotionCue(),
  blink: blinkCue(),
  screen_artifacts: screenArtifactsCue,
};

const RGB_ONLY: ReadonlySet<CueName> = new Set(['passive', 'screen_artifacts']);

/**
 * Enabled cues that apply to the camera and, when a calibration is given, that it weighs: a cue
 * without a weight adds nothing, so it (and for blink, the eye model) is not run at all.
 */
export function enabledCues(config: LivenessConfig, spectrum: 'rgb' | 'nir', calibration?: Calibration): Cue[] {
  if (config.level === 'off') return [];
  return (Object.keys(ALL_CUES) as CueName[])
    .filter((n) => config.cues[n] && !(spectrum === 'nir' && RGB_ONLY.has(n)) && (!calibration || calibration.cues[n] !== undefined))
    .map((n) => ALL_CUES[n]);
}
