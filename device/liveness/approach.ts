/**
 * The recognition loop's liveness side: one LivenessAttempt per face track, fed the track's
 * frames; a `liveness` event when an approach is decided (recognised or not), and at the strict
 * level the active request once the cues found the approach live. The loop asks `gate()` before
 * it grants and gets either "wait" or the approach's result.
 */
import { createLogger } from '../../core/log/logger.ts';
import type { FaceResult } from '../../core/vision/engine.ts';
import type { RgbImage } from '../../core/vision/image.ts';
import { createChallenge, pickChallenge, type ChallengeKind, type ChallengeStatus } from '../../core/vision/pad/challenge.ts';
import { toGrey, type Cue, type GreyImage, type PadObservation } from '../../core/vision/pad/types.ts';
import type { DeviceMetrics } from '../metrics/device-metrics.ts';
import type { FaceVote, Track } from '../recognition/tracker.ts';
import { LivenessAttempt, type LivenessFailure, type LivenessResult } from './attempt.ts';
import type { LivenessConfig } from './config.ts';
import type { Calibration } from './fusion.ts';

const log = createLogger('liveness');

/** Presentation-attack detection for the loop: the level and cues of this door. */
export interface LivenessDeps {
  config: LivenessConfig;
  calibration: Calibration;
  /** Enabled cues that apply to this camera. */
  cues: readonly Cue[];
  /** Whether the eye model runs (the blink cue, or a blink request at the strict level). */
  eyes: boolean;
  /** Asks the person to turn or blink (strict level); default: log only. */
  prompt?: (text: string) => void;
  /** Picks the strict level's request; Math.random by default (tests pass a seeded one). */
  random?: () => number;
}

/** What the decision event and the audit record carry about the approach's liveness. */
export interface LivenessSummary {
  level: LivenessResult['level'];
  live: boolean;
  logOdds: number;
  bar: number;
  cues: LivenessResult['contributions'];
  failed?: LivenessResult['failed'];
  frames: number;
  elapsedMs: number;
  /** The strict level's request and how it ended. */
  challenge?: { kind: ChallengeKind; state: ChallengeStatus['state']; reason?: ChallengeStatus['reason'] };
}

/** Emitted once per approach when its liveness is decided, whether or not anyone was recognised. */
export interface LivenessEvent extends LivenessResult {
  trackId: number;
  ts: number;
  /** Processing time of the approach's first frame (the tracker's clock). */
  firstSeen: number;
  /** Frames of the approach that passed the quality gates (and so voted); a door decides only on voted approaches. */
  votes: number;
}

export type Gate = { wait: true } | { wait: false; result: LivenessResult; failure?: LivenessFailure; summary: LivenessSummary };

export class ApproachLiveness {
  readonly on: boolean;

  constructor(
    private readonly deps: LivenessDeps,
    private readonly emit: (event: 'liveness' | 'challenge', payload: unknown) => void,
    private readonly metrics?: DeviceMetrics,
  ) {
    this.on = deps.config.level !== 'off';
  }

  /** The passive model only runs while some approach still needs evidence (or a new face may appear). */
  passiveNeeded(active: readonly Track[]): boolean {
    return this.on && this.deps.cues.some((c) => c.name === 'passive') && (active.length === 0 || active.some((t) => !t.livenessReported));
  }

  get eyes(): boolean {
    return this.on && this.deps.eyes;
  }

  /** Feed this frame's view of each tracked face to its approach; report approaches that completed. */
  observe(tracks: Track[], votes: FaceVote[], faces: FaceResult[], img: RgbImage, frameTs: number, now: number): void {
    if (!this.on) return;
    let grey: GreyImage | undefined;
    for (const t of tracks) {
      const i = t.lastVote ? votes.indexOf(t.lastVote) : -1;
      if (i < 0 || (t.livenessReported && !t.challenge)) continue;
      const f = faces[i];
      t.liveness ??= new LivenessAttempt(this.deps.config, this.deps.calibration, this.deps.cues);
      grey ??= toGrey(img);
      const o: PadObservation = { ts: frameTs, img, grey, box: f.box, landmarks68: f.landmarks68, landmarks: f.landmarks, pose: f.pose, eyesOpen: f.eyesOpen, passive: f.liveness?.score };
      if (t.challenge) t.challenge.status = t.challenge.check.observe(o);
      t.liveness.observe(o);
      if (t.livenessReported || !t.liveness.ready()) continue;
      t.livenessReported = true;
      const r = t.liveness.decide();
      this.metrics?.recordLiveness(r);
      const ev: LivenessEvent = { ...r, trackId: t.id, ts: now, firstSeen: t.firstSeen, votes: t.votes.length };
      this.emit('liveness', ev);
    }
  }

  /** Before a grant for a recognised person: wait for the approach (and the strict request), or its result. */
  gate(t: Track, frameTs: number): Gate {
    if (!t.liveness?.ready() || !t.livenessReported) return { wait: true };
    const result = t.liveness.decide();
    let failure = result.failed;
    if (result.live && this.deps.config.level === 'strict') {
      const c = this.activeCheck(t, frameTs);
      if (c.state === 'pending') return { wait: true };
      if (c.state === 'failed') failure = 'active_check';
    }
    return { wait: false, result, failure, summary: summarise(result, t.challenge?.status) };
  }

  /** Asked once, after the cues found the approach live; then checked on every frame until it passes or times out. */
  private activeCheck(t: Track, ts: number): ChallengeStatus {
    if (!t.challenge) {
      const kind = pickChallenge(this.deps.random ?? Math.random, this.deps.config.challenge.kinds);
      const check = createChallenge({ kind, timeoutMs: this.deps.config.challenge.timeoutMs, now: ts });
      t.challenge = { check, status: { state: 'pending', kind, prompt: check.prompt } };
      (this.deps.prompt ?? ((text: string) => log.info('liveness request', { prompt: text })))(check.prompt);
      this.emit('challenge', { trackId: t.id, kind, prompt: check.prompt });
      return t.challenge.status;
    }
    if (t.challenge.status.state === 'pending') t.challenge.status = t.challenge.check.check(ts);
    return t.challenge.status;
  }
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;

function summarise(r: LivenessResult, challenge?: ChallengeStatus): LivenessSummary {
  const cues: LivenessSummary['cues'] = {};
  for (const [k, v] of Object.entries(r.contributions)) cues[k as keyof typeof cues] = round(v);
  const s: LivenessSummary = { level: r.level, live: r.live, logOdds: round(r.logOdds), bar: r.bar, cues, failed: r.failed, frames: r.frames, elapsedMs: Math.round(r.elapsedMs) };
  if (challenge) {
    s.challenge = { kind: challenge.kind, state: challenge.state, reason: challenge.reason };
    if (challenge.state !== 'passed') [s.live, s.failed] = [false, 'active_check'];
  }
  return s;
}
