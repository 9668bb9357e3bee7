import { describe, expect, it } from 'vitest';
import { CHALLENGE_PROMPTS, createChallenge, pickChallenge, type ChallengeKind, type ChallengeStatus } from '../../../../core/vision/pad/challenge.ts';
import { noseParallax } from '../../../../core/vision/pad/parallax.ts';
import type { Point } from '../../../../core/vision/geometry.ts';
import { FLAT, headLandmarks, observation } from './synthetic-face.ts';

const FPS = 15;
const T0 = 10_000;

/** Feed frames i = 0.. at 15 fps from T0 with landmarks `lm(i)`; returns every status. */
function feed(kind: ChallengeKind, n: number, lm: (i: number) => Point[], opts: { timeoutMs?: number; eyes?: (i: number) => [number, number] } = {}): ChallengeStatus[] {
  const c = createChallenge({ kind, timeoutMs: opts.timeoutMs ?? 4000, now: T0 });
  const out: ChallengeStatus[] = [];
  for (let i = 0; i < n; i++) out.push(c.observe(observation(T0 + (i * 1000) / FPS, lm(i), opts.eyes ? { eyesOpen: opts.eyes(i) } : {})));
  return out;
}

/** Head yaw ramping from 0 to `to` degrees over frames 5..20, then held. */
const sweep = (to: number) => (i: number) => headLandmarks(to * Math.min(1, Math.max(0, (i - 5) / 15)), 320, 240, 1);

/** A flat picture sheared more and more (a phone tilted about a slanted axis): the nose slides off the eye midline. */
const shear = (i: number): Point[] => {
  const k = 1.2 * Math.min(1, i / 20);
  return headLandmarks(0, 320, 240, 1, FLAT).map(([x, y]) => [x + k * (y - 240), y]);
};

describe('active challenge', () => {
  it('passes a head turn to the left within the time limit and keeps the prompt', () => {
    const s = feed('turn_left', 30, sweep(35));
    expect(s[0]).toMatchObject({ state: 'pending', prompt: CHALLENGE_PROMPTS.turn_left });
    expect(s.at(-1)!.state).toBe('passed');
  });

  it('passes a turn to the right with the yaw going the other way', () => {
    expect(feed('turn_right', 30, sweep(-35)).at(-1)!.state).toBe('passed');
  });

  it('does not pass a turn in the wrong direction, and fails once the time is up', () => {
    const s = feed('turn_left', 75, sweep(-35));
    expect(s.slice(0, 60).every((x) => x.state === 'pending')).toBe(true);
    expect(s.at(-1)).toMatchObject({ state: 'failed', reason: 'timeout' });
  });

  it('does not pass a turn that stays below the yaw needed', () => {
    expect(feed('turn_left', 40, sweep(10)).at(-1)!.state).toBe('pending');
  });

  it('times out without frames through check()', () => {
    const c = createChallenge({ kind: 'blink', timeoutMs: 3000, now: T0 });
    expect(c.check(T0 + 2999).state).toBe('pending');
    expect(c.check(T0 + 3001)).toMatchObject({ state: 'failed', reason: 'timeout' });
  });

  it('refuses a sheared flat picture whose landmark yaw looks like a turn', () => {
    const s = feed('turn_left', 30, shear);
    const last = s.at(-1)!;
    // The yaw estimate is fooled (the precondition of this test)...
    expect(observation(0, shear(29)).pose.yaw).toBeGreaterThan(25);
    // ...the nose parallax is not.
    expect(last.state).toBe('pending');
    expect(last.reason).toBe('planar');
  });

  it('does not count a turn made before the prompt or across a change of face', () => {
    const c = createChallenge({ kind: 'turn_left', timeoutMs: 4000, now: T0 });
    // Frames before the prompt are ignored: the baseline is the first frame after it.
    c.observe(observation(T0 - 500, headLandmarks(0, 320, 240)));
    expect(c.observe(observation(T0, headLandmarks(35, 320, 240))).state).toBe('pending');
    expect(c.observe(observation(T0 + 66, headLandmarks(35, 320, 240))).state).toBe('pending');
    // A different face far away, already turned: a new baseline, no pass.
    expect(c.observe(observation(T0 + 133, headLandmarks(35, 100, 240))).state).toBe('pending');
    expect(c.observe(observation(T0 + 200, headLandmarks(35, 100, 240))).state).toBe('pending');
  });

  it('passes a blink after the prompt and not eyes that stay open', () => {
    const lm = () => headLandmarks(0, 320, 240);
    expect(feed('blink', 20, lm, { eyes: (i) => (i === 9 ? [0.05, 0.05] : [0.95, 0.95]) }).at(-1)!.state).toBe('passed');
    expect(feed('blink', 20, lm, { eyes: () => [0.95, 0.95] }).at(-1)!.state).toBe('pending');
  });

  it('picks the challenge with the injected rng', () => {
    expect(pickChallenge(() => 0)).toBe('turn_left');
    expect(pickChallenge(() => 0.5)).toBe('turn_right');
    expect(pickChallenge(() => 0.999)).toBe('blink');
    expect(pickChallenge(() => 0.7, ['blink', 'turn_right'])).toBe('turn_right');
  });
});

describe('nose parallax', () => {
  it('is large for a real head turn and near zero for a flat picture moved the same way', () => {
    const real = noseParallax(headLandmarks(0, 320, 240), headLandmarks(30, 320, 240))!;
    const flat = noseParallax(headLandmarks(0, 320, 240, 1, FLAT), headLandmarks(30, 320, 240, 1, FLAT))!;
    expect(real).toBeGreaterThan(0.15);
    expect(flat).toBeLessThan(0.01);
  });
});
