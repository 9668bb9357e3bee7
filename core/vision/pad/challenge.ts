/**
 * Active liveness check for doors at the `strict` level: the device asks for a head turn or a
 * blink and verifies it on the tracked face within a time limit. A pure state machine driven by
 * the observations' timestamps (and `check(now)` when no face is seen), so it is tested with
 * synthetic sequences and no clock.
 *
 * A turn passes when the yaw (from the landmarks) moves at least `minYawDeg` from where it was
 * when the prompt was given, in the asked direction, on `holdFrames` consecutive frames of the
 * same face, and the nose shows the parallax of a 3-D head (see parallax.ts): a flat picture
 * tilted to fake a yaw reading is refused as `planar`. A blink passes with an open-closed-open dip
 * of both eyes (blink.ts) after the prompt. The random choice of prompt is what makes a
 * pre-recorded replay fail most of the time; the verification makes a still picture fail always.
 */
import { deepestBlink, DEFAULT_BLINK } from './blink.ts';
import { noseParallax } from './parallax.ts';
import type { PadObservation } from './types.ts';

export const CHALLENGE_KINDS = ['turn_left', 'turn_right', 'blink'] as const;
export type ChallengeKind = (typeof CHALLENGE_KINDS)[number];
export type ChallengeState = 'pending' | 'passed' | 'failed';

export const CHALLENGE_PROMPTS: Record<ChallengeKind, string> = {
  turn_left: 'Turn your head to the left',
  turn_right: 'Turn your head to the right',
  blink: 'Please blink',
};

export interface ChallengeOptions {
  kind: ChallengeKind;
  timeoutMs: number;
  /** When the prompt was given (ms, the observations' clock): earlier frames do not count. */
  now: number;
  /** Yaw change needed, degrees. */
  minYawDeg?: number;
  holdFrames?: number;
  /** Nose parallax needed per unit of |delta sin(yaw)| (a real head gives ~0.4-0.6, a picture ~0). */
  minParallaxRatio?: number;
  /** Blink depth needed (0..1 of eye openness). */
  minBlinkDepth?: number;
  /**
   * Sign of the yaw reading when the person turns to their own left. poseFromLandmarks gives
   * positive yaw when the nose moves to the image's right, which is the person's left on a camera
   * that does not mirror its image; set -1 for a mirrored stream.
   */
  leftYawSign?: 1 | -1;
}

export interface ChallengeStatus {
  state: ChallengeState;
  kind: ChallengeKind;
  prompt: string;
  /** Why it is not passed (yet): `timeout` when failed; `planar` when a turn was seen without parallax. */
  reason?: 'timeout' | 'planar';
}

export interface Challenge {
  readonly kind: ChallengeKind;
  readonly prompt: string;
  observe(o: PadObservation): ChallengeStatus;
  /** Time out without a frame (the face left, the camera stalled). */
  check(now: number): ChallengeStatus;
}

/** Pick a challenge kind; `rng` returns [0, 1) like Math.random. */
export function pickChallenge(rng: () => number = Math.random, kinds: readonly ChallengeKind[] = CHALLENGE_KINDS): ChallengeKind {
  return kinds[Math.min(kinds.length - 1, Math.floor(rng() * kinds.length))];
}

const DEG = Math.PI / 180;

/** Same tracked face as the previous frame: centre moved less than half a face and size within 30%. */
function sameFace(a: PadObservation, b: PadObservation): boolean {
  const wa = a.box[2] - a.box[0], wb = b.box[2] - b.box[0];
  const dc = Math.hypot((a.box[0] + a.box[2] - b.box[0] - b.box[2]) / 2, (a.box[1] + a.box[3] - b.box[1] - b.box[3]) / 2);
  return dc < 0.5 * wa && wb > 0.7 * wa && wb < 1.3 * wa;
}

export function createChallenge(opts: ChallengeOptions): Challenge {
  const { kind, timeoutMs, now: start } = opts;
  const minYaw = opts.minYawDeg ?? 18;
  const hold = opts.holdFrames ?? 2;
  const minRatio = opts.minParallaxRatio ?? 0.2;
  const minBlink = opts.minBlinkDepth ?? 0.5;
  const sign = (kind === 'turn_left' ? 1 : -1) * (opts.leftYawSign ?? 1);
  const prompt = CHALLENGE_PROMPTS[kind];
  let state: ChallengeState = 'pending';
  let reason: ChallengeStatus['reason'];
  let base: PadObservation | undefined;
  let prev: PadObservation | undefined;
  let held = 0;
  const eyes: { ts: number; l: number; r: number }[] = [];

  const status = (): ChallengeStatus => ({ state, kind, prompt, ...(reason ? { reason } : {}) });
  const check = (now: number): ChallengeStatus => {
    if (state === 'pending' && now - start > timeoutMs) {
      state = 'failed';
      reason ??= 'timeout';
    }
    return status();
  };

  const observeTurn = (o: PadObservation) => {
    // A different face (or a jump the tracker bridged) starts the turn over from its own pose.
    if (!base || !prev || !sameFace(prev, o)) {
      base = o;
      held = 0;
      return;
    }
    const dYaw = sign * (o.pose.yaw - base.pose.yaw);
    if (dYaw < minYaw) {
      held = 0;
      return;
    }
    const px = noseParallax(base.landmarks68, o.landmarks68);
    const expected = Math.abs(Math.sin(o.pose.yaw * DEG) - Math.sin(base.pose.yaw * DEG));
    if (px === undefined || px < minRatio * expected) {
      held = 0;
      reason = 'planar';
      return;
    }
    if (++held >= hold) {
      state = 'passed';
      reason = undefined;
    }
  };

  return {
    kind,
    prompt,
    check,
    observe(o: PadObservation): ChallengeStatus {
      if (state !== 'pending' || o.ts < start) return status();
      if (check(o.ts).state !== 'pending') return status();
      if (kind === 'blink') {
        if (o.eyesOpen) eyes.push({ ts: o.ts, l: o.eyesOpen[0], r: o.eyesOpen[1] });
        if (deepestBlink(eyes.slice(-16), DEFAULT_BLINK) >= minBlink) state = 'passed';
      } else {
        observeTurn(o);
      }
      prev = o;
      return status();
    },
  };
}
