/**
 * The frame loop: newest frame -> faces -> tracks -> k-of-n vote -> policy -> durable audit
 * event -> relay. One decision per track (one per approach). Corrupt frames are logged and
 * skipped; the loop only stops when the camera closes or stop() is called.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createLogger } from '../../core/log/logger.ts';
import type { Stage, StageTimes, VisionEngine } from '../../core/vision/engine.ts';
import { fromRawFrame, type RgbImage } from '../../core/vision/image.ts';
import { CameraClosedError, type Camera, type Frame } from '../camera/types.ts';
import type { Gallery } from '../gallery/gallery.ts';
import type { DeviceMetrics } from '../metrics/device-metrics.ts';
import { decide, type Decision } from '../policy/decide.ts';
import type { AccessGroup, AccessSubject } from '../policy/profile.ts';
import type { PolicyConfig } from '../policy/config.ts';
import type { RecognitionConfig } from './config.ts';
import { FaceTracker, verdict, type FaceVote, type Track } from './tracker.ts';
import { ApproachLiveness, type Gate, type LivenessDeps, type LivenessSummary } from '../liveness/approach.ts';

const log = createLogger('recognition');

/** Engine stage name -> `stage` label of the inference histogram. */
const STAGE_METRIC: [Stage, 'detect' | 'landmark' | 'feature' | 'liveness'][] = [
  ['detect', 'detect'],
  ['landmarks', 'landmark'],
  ['embed', 'feature'],
  ['liveness', 'liveness'],
];

export interface DecisionEvent extends Decision {
  /** uuid of the audit event; the gateway de-duplicates on it. */
  id: string;
  door: string;
  ts: number;
  trackId: number;
  score?: number;
  margin?: number;
  live: number;
  /** Capture timestamp of the frame that completed the vote. */
  frameTs: number;
  /** From the capture of the approach's first frame to this decision, ms. */
  approachMs: number;
  /** Frame capture to relay moved (or refusal recorded); set on the emitted event only. */
  latencyMs?: number;
  /** The approach's liveness decision: level, fused log-odds, bar and each cue's contribution. */
  liveness?: LivenessSummary;
}

export type { LivenessDeps, LivenessEvent, LivenessSummary } from '../liveness/approach.ts';

export interface RecognitionDeps {
  camera: Camera;
  engine: VisionEngine;
  gallery: Gallery;
  config: RecognitionConfig;
  policy: PolicyConfig;
  /** Person record (access profile) by id; undefined when not (or no longer) enrolled. */
  person: (id: string) => AccessSubject | undefined;
  groups: () => Readonly<Record<string, AccessGroup | undefined>>;
  /**
   * Carry out a decision: make it durable, then (if granted) release the lock. Resolves when the
   * relay has moved (or the refusal is recorded); rejects if the audit write failed.
   */
  act: (d: DecisionEvent) => Promise<void>;
  metrics?: DeviceMetrics;
  /**
   * Presentation-attack detection per approach. Without it the loop falls back to the mean
   * passive score of the track against vision.liveness.threshold (tools and benchmarks).
   */
  liveness?: LivenessDeps;
  /**
   * The second embedding (core/vision/second-embedder.ts): run on a face's aligned crop only when
   * its best main score lies within gallery.fusionBand of the threshold; the vote then uses the
   * fused score (Gallery.fuse).
   */
  secondEmbedder?: { embed(aligned: Float32Array): Promise<Float32Array> };
  /** Called after every processed frame (systemd watchdog, health). */
  onTick?: () => void;
  now?: () => number;
}

export class RecognitionLoop extends EventEmitter {
  private running = false;
  private done: Promise<void> | undefined;
  private abort = new AbortController();
  private readonly tracker: FaceTracker;
  private readonly pad: ApproachLiveness | undefined;
  private readonly now: () => number;
  private lastDecodeWarn = 0;
  private droppedSeen = 0;
  /** While set, frames go to an enrol-here capture instead of the access pipeline. */
  private lender: ((f: Frame) => void) | undefined;

  constructor(private readonly deps: RecognitionDeps) {
    super();
    const c = deps.config;
    this.tracker = new FaceTracker({ iou: c.trackIou, timeoutMs: c.trackTimeoutMs, voteWindow: c.voteWindow });
    this.now = deps.now ?? Date.now;
    this.pad = deps.liveness && new ApproachLiveness(deps.liveness, (event, payload) => this.emit(event, payload), deps.metrics);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.done;
  }

  /** Resolves when the loop has ended (camera closed or stopped). */
  finished(): Promise<void> {
    return this.done ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    const { camera, metrics } = this.deps;
    while (this.running) {
      let frame: Frame;
      try {
        frame = await camera.nextFrame({ signal: this.abort.signal });
      } catch (err) {
        if (err instanceof CameraClosedError || !this.running) break;
        log.error('camera error', { error: (err as Error).message });
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      metrics?.framesCaptured.inc();
      if (this.lender) {
        this.lender(frame);
        this.deps.onTick?.();
        continue;
      }
      // Frames the camera replaced in its one-slot mailbox while we were busy.
      const dropped = camera.stats.dropped;
      if (metrics && dropped > this.droppedSeen) metrics.framesDropped.inc({ reason: 'busy' }, dropped - this.droppedSeen);
      this.droppedSeen = dropped;
      try {
        await this.processFrame(frame);
        metrics?.framesProcessed.inc();
      } catch (err) {
        metrics?.framesDropped.inc({ reason: 'error' });
        log.error('frame processing failed', { seq: frame.seq, error: (err as Error).message });
      }
      metrics?.markFrame();
      this.deps.onTick?.();
    }
    this.running = false;
  }

  /**
   * Lend the camera's frames to someone else (enrol-here) until release(): the camera has one
   * consumer, and a capture at the door must not also open it. No access decision is made while
   * frames are lent; the door I/O (exit button, alarms) keeps running.
   */
  lendFrames(): { next(signal: AbortSignal): Promise<Frame>; release(): void } {
    if (this.lender) throw new Error('frames are already lent to another capture');
    let waiting: ((f: Frame) => void) | undefined;
    let latest: Frame | undefined;
    this.lender = (f) => {
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w(f);
      } else latest = f;
    };
    return {
      next: (signal) =>
        new Promise<Frame>((resolve, reject) => {
          if (signal.aborted) return reject(new Error('capture aborted'));
          if (latest) {
            const f = latest;
            latest = undefined;
            return resolve(f);
          }
          const onAbort = () => {
            waiting = undefined;
            reject(new Error('capture aborted'));
          };
          signal.addEventListener('abort', onAbort, { once: true });
          waiting = (f) => {
            signal.removeEventListener('abort', onAbort);
            resolve(f);
          };
        }),
      // Tracks from before the capture time out on their own (no frames reached them).
      release: () => {
        this.lender = undefined;
      },
    };
  }

  /** Exposed for tests: run one frame through the pipeline. */
  async processFrame(frame: Frame): Promise<void> {
    const { engine, gallery, config, metrics } = this.deps;
    let img: RgbImage;
    try {
      // Drivers deliver MJPEG today; raw frames (YUV420 from rpicam-vid --codec yuv420) decode here too.
      img = frame.format === 'jpeg' ? await engine.decode(frame.data) : fromRawFrame(frame.data, frame.width ?? 0, frame.height ?? 0, frame.format);
    } catch (err) {
      metrics?.framesDropped.inc({ reason: 'corrupt' });
      // A broken stream can produce many bad frames a second; one warning per 5 s is enough.
      if (this.now() - this.lastDecodeWarn > 5000) {
        this.lastDecodeWarn = this.now();
        log.warn('corrupt frame skipped', { seq: frame.seq, error: (err as Error).message });
      }
      this.emit('corrupt', frame.seq);
      return;
    }
    const timings: StageTimes = {};
    const pad = this.pad;
    const second = gallery.secondCount > 0 ? this.deps.secondEmbedder : undefined;
    const analysis = await engine.analyze(img, { embed: 'passing', liveness: pad ? pad.passiveNeeded(this.tracker.active()) : true, eyes: pad?.eyes ?? false, timings, keepAligned: second !== undefined });
    if (metrics) {
      for (const [stage, metric] of STAGE_METRIC) {
        const ms = timings[stage];
        if (ms !== undefined) metrics.inference.observe({ stage: metric }, ms / 1000);
      }
    }
    metrics?.facesDetected.inc(analysis.faces.length);
    const threshold = config.matchThreshold ?? gallery.matchThreshold;
    const votes: FaceVote[] = [];
    for (const f of analysis.faces) {
      const vote: FaceVote = { box: f.box, qualityReasons: f.quality.reasons, liveScore: f.liveness?.score };
      if (!f.quality.ok || !f.embedding) {
        votes.push({ ...vote, liveScore: undefined });
        continue;
      }
      let hit = gallery.search(f.embedding);
      if (hit && second && f.aligned && gallery.needsSecond(hit, threshold)) hit = gallery.fuse(hit, await second.embed(f.aligned));
      if (hit && hit.score >= threshold) votes.push({ ...vote, personId: hit.personId, score: hit.score, margin: gallery.personCount > 1 ? hit.margin : undefined });
      else votes.push({ ...vote, personId: null, score: hit?.score });
    }
    const now = this.now();
    const tracks = this.tracker.update(votes, now);
    for (const t of tracks) t.firstFrameTs ??= frame.ts;
    pad?.observe(tracks, votes, analysis.faces, img, frame.ts, now);
    this.emit('frame', { seq: frame.seq, faces: analysis.faces.length, tracks: tracks.length });
    for (const t of tracks) await this.maybeDecide(t, frame, now);
  }

  private async maybeDecide(t: Track, frame: Frame, now: number): Promise<void> {
    const { config, policy } = this.deps;
    const pad = this.pad;
    // With per-approach liveness the approach decides when it has seen enough; the passive frame count does not gate.
    const v = verdict(t, config.votesNeeded, pad ? 0 : config.minLiveFrames);
    if (v.kind === 'wait') return;
    let gate: Gate | undefined;
    if (v.kind === 'person' && pad?.on) {
      gate = pad.gate(t, frame.ts);
      if (gate.wait) return;
    }
    t.decided = true;
    const failure = gate && !gate.wait ? gate.failure : undefined;
    const liveOk = pad ? !pad.on || (gate !== undefined && !gate.wait && gate.result.live && failure === undefined) : v.live >= this.deps.engine.config.liveness.threshold;
    let decision: Decision;
    if (v.kind === 'unknown') decision = { granted: false, reason: 'unknown' };
    else {
      const person = this.deps.person(v.personId);
      decision = person
        ? decide(person, { door: config.door, now: new Date(now), live: liveOk, liveFailure: failure, matchScore: v.score, margin: v.margin, groups: this.deps.groups(), policy })
        : { granted: false, reason: 'unknown', personId: v.personId };
    }
    const event: DecisionEvent = {
      id: randomUUID(),
      ...decision,
      door: config.door,
      ts: now,
      trackId: t.id,
      score: v.kind === 'person' ? round(v.score) : undefined,
      margin: v.kind === 'person' && v.margin !== undefined ? round(v.margin) : undefined,
      live: round(v.live),
      frameTs: frame.ts,
      approachMs: now - (t.firstFrameTs ?? t.firstSeen),
      liveness: gate && !gate.wait ? gate.summary : undefined,
    };
    try {
      await this.deps.act(event);
    } catch (err) {
      log.error('decision could not be carried out; door stays locked', { reason: decision.reason, error: (err as Error).message });
      this.emit('decision-failed', event, err);
      return;
    }
    const latencyMs = this.now() - frame.ts;
    this.deps.metrics?.recordDecision(decision);
    this.deps.metrics?.frameToDecision.observe(latencyMs / 1000);
    this.emit('decision', { ...event, latencyMs });
  }
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;
