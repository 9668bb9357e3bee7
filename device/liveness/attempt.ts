/**
 * Liveness of one approach (one track): every enabled cue watches the track's frames; once the
 * approach has been watched for `attemptMs` (and at least `minFrames` frames), the cues'
 * features are fused into one decision that stays fixed for the track. A refusal names the cue
 * that pulled hardest towards "attack".
 */
import type { Cue, CueName, CueTracker, PadObservation } from '../../core/vision/pad/types.ts';
import type { LivenessConfig, LivenessLevel } from './config.ts';
import { fuse, type Calibration, type CueFeatures } from './fusion.ts';

/** What a not_live refusal names: a cue, the active check, or the sum of weak evidence. */
export const livenessFailures = ['passive', 'screen_border', 'rigid_motion', 'blink', 'screen_artifacts', 'active_check', 'combined'] as const;
export type LivenessFailure = (typeof livenessFailures)[number];

export interface LivenessResult {
  level: LivenessLevel;
  live: boolean;
  /** Fused log-odds and the bar it was held against. */
  logOdds: number;
  bar: number;
  features: CueFeatures;
  contributions: Partial<Record<CueName, number>>;
  failed?: LivenessFailure;
  frames: number;
  /** From the first frame of the approach to the frame that completed it. */
  elapsedMs: number;
}

export class LivenessAttempt {
  private readonly trackers: [CueName, CueTracker][];
  private frames = 0;
  private firstTs: number | undefined;
  private lastTs = 0;
  private result: LivenessResult | undefined;

  constructor(
    private readonly config: LivenessConfig,
    private readonly calibration: Calibration,
    cues: readonly Cue[],
  ) {
    this.trackers = cues.map((c) => [c.name, c.create()]);
  }

  observe(o: PadObservation): void {
    if (this.result) return;
    this.firstTs ??= o.ts;
    this.lastTs = o.ts;
    this.frames++;
    for (const [, t] of this.trackers) t.observe(o);
  }

  /** Enough of the approach has been seen to decide. */
  ready(): boolean {
    if (this.result) return true;
    if (this.firstTs === undefined) return false;
    const elapsed = this.lastTs - this.firstTs;
    const { attemptMs, minFrames } = this.config;
    // A slow device sees fewer frames per second: wait longer for minFrames, but not forever.
    return elapsed >= attemptMs && (this.frames >= minFrames || elapsed >= 2 * attemptMs);
  }

  features(): CueFeatures {
    const out: CueFeatures = {};
    for (const [name, t] of this.trackers) {
      const f = t.feature();
      if (f !== undefined) out[name] = f;
    }
    return out;
  }

  /** The decision; fixed at the first call once ready() (later frames do not change it). */
  decide(): LivenessResult {
    if (this.result) return this.result;
    const level = this.config.level;
    const bar = level === 'strict' ? this.config.levels.strict : this.config.levels.standard;
    const features = this.features();
    const fused = fuse(this.calibration, features);
    const live = fused.logOdds >= bar;
    this.result = {
      level,
      live,
      logOdds: fused.logOdds,
      bar,
      features,
      contributions: fused.contributions,
      failed: live ? undefined : (fused.weakest ?? 'combined'),
      frames: this.frames,
      elapsedMs: this.firstTs === undefined ? 0 : this.lastTs - this.firstTs,
    };
    return this.result;
  }
}
