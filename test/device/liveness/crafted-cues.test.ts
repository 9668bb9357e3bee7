/**
 * Each cue on crafted input, through the device's own attempt and fusion: a fixture portrait
 * inside a drawn phone (or on a print) moved rigidly, and the same face moving live over a still
 * room. With one cue switched on (a plain weight around the middle of its range, no intercept)
 * the attack is refused and names that cue while the live approach passes; switched off, the same
 * attack passes, so each refusal is that cue's doing. Then the shipped weights, all cues together.
 * (blink and screen_artifacts are tested on synthetic eye series and moire in test/core/vision/pad.)
 */
import { describe, expect, it } from 'vitest';
import { toGrey, type CueName, type PadObservation } from '../../../core/vision/pad/types.ts';
import type { VisionEngine } from '../../../core/vision/engine.ts';
import { LivenessAttempt } from '../../../device/liveness/attempt.ts';
import { livenessConfigSchema } from '../../../device/liveness/config.ts';
import { enabledCues } from '../../../device/liveness/cues.ts';
import { loadCalibration, type Calibration } from '../../../device/liveness/fusion.ts';
import { craftedSequence, type CraftedKind } from '../../../scripts/pad/crafted.ts';
import { fixture, hasModels, makeEngine, skipReason } from '../../helpers.ts';
import { afterAll, beforeAll } from 'vitest';

const shipped = loadCalibration();

/** Mid-range weights: border and rigid motion in [0, 1] (1 = attack), passive a mean logit. */
const MID: Partial<Calibration['cues']> = {
  screen_border: { weight: -10, center: 0.5, cap: 4 },
  rigid_motion: { weight: -10, center: 0.5, cap: 4 },
  passive: { weight: 1, center: -5, cap: 4 },
};
/** Only `cue` weighs, with a neutral intercept: the cue alone decides. */
const alone = (cue: CueName): Calibration => ({ about: 'one cue', intercept: 0, cues: { [cue]: MID[cue] } });
const config = livenessConfigSchema.parse({});
const onlyCue = (cue: CueName | undefined) =>
  enabledCues({ ...config, cues: { passive: cue === 'passive', screen_border: cue === 'screen_border', rigid_motion: cue === 'rigid_motion', blink: false, screen_artifacts: false } }, 'rgb');

describe.skipIf(skipReason(hasModels, 'models/ missing'))('shipped liveness cues on crafted approaches', () => {
  let engine: VisionEngine;
  const observations = new Map<CraftedKind, PadObservation[]>();
  beforeAll(async () => {
    engine = await makeEngine();
    for (const kind of ['live', 'phone', 'print'] as const) {
      const seq = await craftedSequence({ portrait: fixture('grace_hopper.jpg'), kind, frames: 24, motion: 'rigid', seed: 21 });
      const obs: PadObservation[] = [];
      for (const [i, img] of seq.frames.entries()) {
        const a = await engine.analyze(img, { embed: 'none', liveness: true });
        const f = a.faces[a.primary];
        if (f) obs.push({ ts: i * 66.7, img, grey: toGrey(img), box: f.box, landmarks68: f.landmarks68, landmarks: f.landmarks, pose: f.pose, passive: f.liveness?.score });
      }
      observations.set(kind, obs);
    }
  }, 120_000);
  afterAll(() => engine?.close());

  const decide = (kind: CraftedKind, cue: CueName | undefined, cal: Calibration) => {
    const a = new LivenessAttempt(config, cal, onlyCue(cue));
    for (const o of observations.get(kind)!) a.observe(o);
    expect(a.ready()).toBe(true);
    return a.decide();
  };

  for (const [cue, attack] of [
    ['screen_border', 'phone'],
    ['rigid_motion', 'phone'],
    ['passive', 'print'],
  ] as const) {
    it(`${cue}: refuses the crafted ${attack} attack naming the cue, passes the live face, and lets the attack through when off`, () => {
      const refused = decide(attack, cue, alone(cue));
      expect(refused.live).toBe(false);
      expect(refused.failed).toBe(cue);
      expect(decide('live', cue, alone(cue)).live).toBe(true);
      const off = decide(attack, undefined, alone(cue));
      expect(off.live).toBe(true);
      expect(off.contributions[cue]).toBeUndefined();
    });
  }

  it('all shipped cues together: the attacks are refused, the live face passes', () => {
    const all = (kind: CraftedKind) => {
      const a = new LivenessAttempt(config, shipped, enabledCues(config, 'rgb', shipped));
      for (const o of observations.get(kind)!) a.observe(o);
      return a.decide();
    };
    expect(all('phone').live).toBe(false);
    expect(all('print').live).toBe(false);
    expect(all('live').live).toBe(true);
  });
});
