/**
 * The metrics the device daemon updates, declared in one place so names, labels and buckets stay
 * consistent between the frame loop, the door, the outbox, the sync and dashboards.
 *
 * Every device gets its own prom-client `Registry` (never the global default one): tests and the
 * demo run several devices in one process, and the global registry refuses a second metric of the
 * same name.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { decisionReasons, type Decision } from '../policy/decide.ts';
import type { MetricsConfig } from './config.ts';
import { defaultMetricsConfig } from './config.ts';

export const inferenceStages = ['detect', 'landmark', 'feature', 'liveness'] as const;
export type InferenceStage = (typeof inferenceStages)[number];

/** Why the device refused a message from the broker (label `reason` of `sync_rejected_total`). */
export const syncRejectReasons = ['unsigned', 'bad_signature', 'wrong_key', 'replayed', 'expired', 'malformed', 'not_for_me'] as const;
export type SyncRejectReason = (typeof syncRejectReasons)[number];

export interface DeviceMetricsOptions {
  config?: MetricsConfig;
  /** Defaults to a fresh registry of this device's own. */
  registry?: Registry;
  /** Read at scrape time; the outbox owns its depth. */
  outboxDepth?: () => number;
  /** Read at scrape time. */
  gallerySize?: () => number;
  /** Read at scrape time: records waiting in memory because the disk refused them. */
  auditBacklog?: () => number;
  /** Read at scrape time: what a salvage at start recovered and lost (0/0 when none ran). */
  salvagedRows?: () => { recovered: number; lost: number };
  /** Read at scrape time: the 1:N vote threshold in use and the FPIR expected at it (device/gallery/operating-point.ts). */
  matchThreshold?: () => { threshold: number; expectedFpir: number | null };
  /** Node.js process metrics (CPU, memory, event-loop lag, GC); on by default. */
  processMetrics?: boolean;
}

export function createDeviceMetrics(opts: DeviceMetricsOptions = {}) {
  const config = opts.config ?? defaultMetricsConfig();
  const registry = opts.registry ?? new Registry();
  const p = config.prefix;
  const registers = [registry];

  const framesCaptured = new Counter({ name: `${p}frames_captured_total`, help: 'Frames delivered by the camera.', registers });
  const framesProcessed = new Counter({ name: `${p}frames_processed_total`, help: 'Frames that went through the recognition pipeline.', registers });
  const framesDropped = new Counter({
    name: `${p}frames_dropped_total`,
    help: 'Frames skipped without processing, by reason (e.g. busy = pipeline still on an older frame).',
    labelNames: ['reason'] as const,
    registers,
  });
  const facesDetected = new Counter({ name: `${p}faces_detected_total`, help: 'Faces found by the detector.', registers });
  const decisions = new Counter({
    name: `${p}decisions_total`,
    help: 'Access decisions by result (granted/denied) and reason.',
    labelNames: ['result', 'reason'] as const,
    registers,
  });
  // Series exist at 0 before the first event, so rate() and alerts see them from the start.
  for (const reason of decisionReasons) decisions.inc({ result: reason === 'granted' ? 'granted' : 'denied', reason }, 0);

  const livenessAttempts = new Counter({
    name: `${p}liveness_attempts_total`,
    help: 'Approaches whose liveness was decided, by result (live/attack) and, for attacks, the cue that failed.',
    labelNames: ['result', 'cue'] as const,
    registers,
  });

  const frameToDecision = new Histogram({
    name: `${p}frame_to_decision_seconds`,
    help: 'Time from frame capture to the access decision.',
    buckets: config.frameToDecisionBuckets,
    registers,
  });
  const inference = new Histogram({
    name: `${p}inference_seconds`,
    help: 'Model run time per pipeline stage.',
    labelNames: ['stage'] as const,
    buckets: config.inferenceBuckets,
    registers,
  });
  for (const stage of inferenceStages) inference.zero({ stage });

  const doorState = new Gauge({
    name: `${p}door_state`,
    help: 'Door state as a state set: 1 for the current state of each door, 0 for its other known states.',
    labelNames: ['door', 'state'] as const,
    registers,
  });
  const cameraUp = new Gauge({ name: `${p}camera_up`, help: '1 while the camera delivers frames, 0 otherwise.', registers });
  const lastFrameTimestamp = new Gauge({
    name: `${p}last_frame_timestamp_seconds`,
    help: 'Unix time of the last frame the loop finished; alert when it stops moving.',
    registers,
  });
  const readOutboxDepth = opts.outboxDepth;
  const outboxDepth = new Gauge({
    name: `${p}outbox_depth`,
    help: 'Events waiting in the outbox for delivery to the gateway.',
    registers,
    collect: readOutboxDepth ? function (this: Gauge) { this.set(readOutboxDepth()); } : undefined,
  });
  const readBacklog = opts.auditBacklog;
  const auditBacklog = new Gauge({
    name: `${p}audit_backlog`,
    help: 'Audit records the disk refused, kept in memory and retried (alert when above 0).',
    registers,
    collect: readBacklog ? function (this: Gauge) { this.set(readBacklog()); } : undefined,
  });
  const readSalvage = opts.salvagedRows;
  const storeSalvage = new Gauge({
    name: `${p}store_salvage_rows`,
    help: 'Rows of a database found corrupt at start: recovered into the fresh file, or lost (damaged pages).',
    labelNames: ['result'] as const,
    registers,
    collect: readSalvage
      ? function (this: Gauge<'result'>) {
          const r = readSalvage();
          this.set({ result: 'recovered' }, r.recovered);
          this.set({ result: 'lost' }, r.lost);
        }
      : undefined,
  });
  const readGallerySize = opts.gallerySize;
  const gallerySize = new Gauge({
    name: `${p}gallery_size`,
    help: 'Enrolled people in the local gallery.',
    registers,
    collect: readGallerySize ? function (this: Gauge) { this.set(readGallerySize()); } : undefined,
  });

  const readMatch = opts.matchThreshold;
  const matchThreshold = new Gauge({
    name: `${p}match_threshold`,
    help: 'Cosine similarity a face needs to vote for a person: derived from recognition.targetFpir for the current gallery, or the recognition.matchThreshold override.',
    registers,
    collect: readMatch ? function (this: Gauge) { this.set(readMatch().threshold); } : undefined,
  });
  const matchExpectedFpir = new Gauge({
    name: `${p}match_expected_fpir`,
    help: 'Share of unknown visitors the impostor model expects to reach the match threshold with the current gallery (NaN before the first derivation).',
    registers,
    collect: readMatch ? function (this: Gauge) { this.set(readMatch().expectedFpir ?? NaN); } : undefined,
  });

  const gpioDriver = new Gauge({
    name: `${p}gpio_driver`,
    help: 'The GPIO driver running the door: 1 for its type (gpiod, onoff, simulated).',
    labelNames: ['type'] as const,
    registers,
  });

  const modelInfo = new Gauge({
    name: `${p}model_info`,
    help: 'One series per vision model: its precision (fp32, int8) and the execution provider it runs on after any fallback (cpu, cuda, tensorrt).',
    labelNames: ['model', 'precision', 'provider'] as const,
    registers,
  });

  // Sync with the gateway; set by device/sync.
  const syncConnected = new Gauge({ name: `${p}sync_connected`, help: '1 while connected to the MQTT broker, 0 otherwise.', registers });
  const syncRejected = new Counter({
    name: `${p}sync_rejected_total`,
    help: 'Messages from the broker the device refused, by reason (unsigned, bad_signature, wrong_key, replayed, expired, malformed, not_for_me).',
    labelNames: ['reason'] as const,
    registers,
  });
  for (const reason of syncRejectReasons) syncRejected.inc({ reason }, 0);
  const outboxNearCap = new Gauge({
    name: `${p}outbox_near_cap`,
    help: '1 while the outbox depth is above the warning fraction of its cap (events are kept, never dropped silently).',
    registers,
  });
  const syncCursor = new Gauge({ name: `${p}sync_cursor`, help: 'Register change-log cursor the device has applied up to.', registers });
  const syncLagSeconds = new Gauge({
    name: `${p}sync_lag_seconds`,
    help: 'Seconds since the register was last known to be up to date with the gateway (0 while in sync).',
    registers,
  });
  // Unlabelled prom-client gauges print 0 until set; set them anyway so the intent is explicit.
  for (const g of [cameraUp, syncConnected, outboxNearCap, syncCursor, syncLagSeconds]) g.set(0);

  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: p });

  const knownDoorStates = new Map<string, Set<string>>();

  return {
    registry,
    framesCaptured,
    framesProcessed,
    framesDropped,
    facesDetected,
    decisions,
    frameToDecision,
    inference,
    doorState,
    cameraUp,
    lastFrameTimestamp,
    outboxDepth,
    gallerySize,
    matchThreshold,
    matchExpectedFpir,
    auditBacklog,
    storeSalvage,
    gpioDriver,
    modelInfo,
    syncConnected,
    syncRejected,
    outboxNearCap,
    syncCursor,
    syncLagSeconds,
    recordLiveness(r: { live: boolean; failed?: string }): void {
      livenessAttempts.inc({ result: r.live ? 'live' : 'attack', cue: r.failed ?? '' });
    },
    recordDecision(d: Pick<Decision, 'granted' | 'reason'>): void {
      decisions.inc({ result: d.granted ? 'granted' : 'denied', reason: d.reason });
    },
    setDoorState(door: string, state: string): void {
      let states = knownDoorStates.get(door);
      if (!states) knownDoorStates.set(door, (states = new Set(['locked', 'unlocked'])));
      states.add(state);
      for (const s of states) doorState.set({ door, state: s }, s === state ? 1 : 0);
    },
    /** Call when the frame loop finishes a frame; feeds the staleness gauge. */
    markFrame(at: Date = new Date()): void {
      lastFrameTimestamp.set(at.getTime() / 1000);
    },
  };
}

export type DeviceMetrics = ReturnType<typeof createDeviceMetrics>;
