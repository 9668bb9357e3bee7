import { describe, expect, it } from 'vitest';
import type { Cue, PadObservation } from '../../../core/vision/pad/types.ts';
import { LivenessAttempt } from '../../../device/liveness/attempt.ts';
import { livenessConfigSchema } from '../../../device/liveness/config.ts';
import { enabledCues } from '../../../device/liveness/cues.ts';
import { fuse, loadCalibration, type Calibration } from '../../../device/liveness/fusion.ts';

const cal: Calibration = {
  about: 'test',
  intercept: 0.5,
  cues: {
    passive: { weight: 1, center: -2, cap: 4 },
    screen_border: { weight: -6, center: 0.5, cap: 3 },
  },
};

/** A cue whose feature is the mean of a number the test puts in `passive`. */
const fakeCue = (name: 'passive' | 'screen_border'): Cue => ({
  name,
  create: () => {
    const v: number[] = [];
    return { observe: (o) => void (o.passive !== undefined && v.push(o.passive)), feature: () => (v.length ? v.reduce((a, b) => a + b) / v.length : undefined) };
  },
});

const obs = (ts: number, passive?: number): PadObservation => ({
  ts,
  img: { width: 1, height: 1, data: new Uint8Array(3) },
  grey: { width: 1, height: 1, data: new Uint8Array(1) },
  box: [0, 0, 1, 1],
  landmarks68: [],
  landmarks: [],
  pose: { yaw: 0, pitch: 0, roll: 0 },
  passive,
});

describe('liveness fusion', () => {
  it('sums capped per-cue log-odds with the intercept and names the cue that pulled hardest towards attack', () => {
    const r = fuse(cal, { passive: 0, screen_border: 0.9 });
    // passive: 1 x (0 - -2) = 2; border: -6 x 0.4 = -2.4 (under its cap of 3)
    expect(r.contributions.passive).toBeCloseTo(2);
    expect(r.contributions.screen_border).toBeCloseTo(-2.4);
    expect(r.logOdds).toBeCloseTo(0.5 + 2 - 2.4);
    expect(r.weakest).toBe('screen_border');
    // The cap bounds one cue's say.
    expect(fuse(cal, { screen_border: 10 }).contributions.screen_border).toBe(-3);
  });

  it('a cue without evidence or without a weight adds nothing', () => {
    expect(fuse(cal, {}).logOdds).toBe(0.5);
    expect(fuse(cal, { blink: 1 }).contributions).toEqual({});
    expect(fuse(cal, { passive: Number.NaN }).logOdds).toBe(0.5);
  });

  it('the shipped calibration loads and a malformed one is refused with its problems', () => {
    expect(loadCalibration().cues.passive).toBeDefined();
    expect(() => loadCalibration('/nonexistent/cal.json')).toThrow(/liveness calibration/);
  });
});

describe('liveness attempt', () => {
  const config = livenessConfigSchema.parse({ attemptMs: 1000, minFrames: 3 });

  it('decides only after attemptMs and minFrames, then keeps its decision', () => {
    const a = new LivenessAttempt(config, cal, [fakeCue('passive')]);
    a.observe(obs(0, 1));
    a.observe(obs(500, 1));
    expect(a.ready()).toBe(false);
    a.observe(obs(1000, 1));
    expect(a.ready()).toBe(true);
    const r = a.decide();
    expect(r).toMatchObject({ live: true, frames: 3, elapsedMs: 1000, level: 'standard', bar: 0 });
    a.observe(obs(1100, -50));
    expect(a.decide()).toBe(r);
  });

  it('a refusal names the failing cue; strict holds a higher bar', () => {
    const attack = new LivenessAttempt(config, cal, [fakeCue('passive'), fakeCue('screen_border')]);
    for (const t of [0, 400, 800, 1200]) attack.observe(obs(t, 0.95));
    // passive +2.95 (≈), border -2.7: 0.5 + 2.95 - 2.7 > 0 -> live at standard
    expect(attack.decide().live).toBe(true);
    const strict = new LivenessAttempt({ ...config, level: 'strict' }, cal, [fakeCue('passive'), fakeCue('screen_border')]);
    for (const t of [0, 400, 800, 1200]) strict.observe(obs(t, 0.95));
    const r = strict.decide();
    expect(r.live).toBe(false);
    expect(r.failed).toBe('screen_border');
  });

  it('a slow device decides after 2 x attemptMs even with fewer frames', () => {
    const a = new LivenessAttempt(config, cal, [fakeCue('passive')]);
    a.observe(obs(0, 1));
    a.observe(obs(1500, 1));
    expect(a.ready()).toBe(false);
    a.observe(obs(2000, 1));
    expect(a.ready()).toBe(true);
  });

  it('off runs no cue; a near-infrared camera skips the colour-trained ones', () => {
    expect(enabledCues({ ...config, level: 'off' }, 'rgb')).toEqual([]);
    expect(enabledCues(config, 'rgb').map((c) => c.name)).toContain('passive');
    expect(enabledCues(config, 'nir').map((c) => c.name)).not.toContain('passive');
    expect(enabledCues({ ...config, cues: { ...config.cues, passive: false } }, 'rgb').map((c) => c.name)).not.toContain('passive');
  });
});
