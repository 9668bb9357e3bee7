/**
 * The metrics the device daemon updates, declared in one place so names, labels and buckets stay
 * consistent between the frame loop, the door, the outbox and dashboards.
 */
import { decisionReasons, type Decision } from '../policy/decide.ts';
import type { MetricsConfig } from './config.ts';
import { defaultMetricsConfig } from './config.ts';
import { Registry } from './registry.ts';

export const inferenceStages = ['detect', 'landmark', 'feature', 'liveness'] as const;
export type InferenceStage = (typeof inferenceStages)[number];

export interface DeviceMetricsOptions {
  config?: MetricsConfig;
  registry?: Registry;
  /** Read at scrape time; the outbox owns its depth. */
  outboxDepth?: () => number;
  /** Read at scrape time. */
  gallerySize?: () => number;
}

export function createDeviceMetrics(opts: DeviceMetricsOptions = {}) {
  const config = opts.config ?? defaultMetricsConfig();
  const registry = opts.registry ?? new Registry();
  const p = config.prefix;

  const framesCaptured = registry.counter({ name: `${p}frames_captured_total`, help: 'Frames delivered by the camera.' });
  const framesProcessed = registry.counter({ name: `${p}frames_processed_total`, help: 'Frames that went through the recognition pipeline.' });
  const framesDropped = registry.counter({
    name: `${p}frames_dropped_total`,
    help: 'Frames skipped without processing, by reason (e.g. busy = pipeline still on an older frame).',
    labelNames: ['reason'],
  });
  const facesDetected = registry.counter({ name: `${p}faces_detected_total`, help: 'Faces found by the detector.' });
  const decisions = registry.counter({
    name: `${p}decisions_total`,
    help: 'Access decisions by result (granted/denied) and reason.',
    labelNames: ['result', 'reason'],
  });
  for (const reason of decisionReasons) decisions.init({ result: reason === 'granted' ? 'granted' : 'denied', reason });

  const frameToDecision = registry.histogram({
    name: `${p}frame_to_decision_seconds`,
    help: 'Time from frame capture to the access decision.',
    buckets: config.frameToDecisionBuckets,
  });
  const inference = registry.histogram({
    name: `${p}inference_seconds`,
    help: 'Model run time per pipeline stage.',
    labelNames: ['stage'],
    buckets: config.inferenceBuckets,
  });
  for (const stage of inferenceStages) inference.init({ stage });

  const doorState = registry.gauge({
    name: `${p}door_state`,
    help: 'Door state as a state set: 1 for the current state of each door, 0 for its other known states.',
    labelNames: ['door', 'state'],
  });
  const cameraUp = registry.gauge({ name: `${p}camera_up`, help: '1 while the camera delivers frames, 0 otherwise.' });
  const lastFrameTimestamp = registry.gauge({
    name: `${p}last_frame_timestamp_seconds`,
    help: 'Unix time of the last frame the loop finished; alert when it stops moving.',
  });
  const outboxDepth = registry.gauge({
    name: `${p}outbox_depth`,
    help: 'Events waiting in the outbox for delivery to the gateway.',
    collect: opts.outboxDepth ? (g) => g.set(undefined, opts.outboxDepth!()) : undefined,
  });
  const gallerySize = registry.gauge({
    name: `${p}gallery_size`,
    help: 'Enrolled people in the local gallery.',
    collect: opts.gallerySize ? (g) => g.set(undefined, opts.gallerySize!()) : undefined,
  });

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
      lastFrameTimestamp.set(undefined, at.getTime() / 1000);
    },
  };
}

export type DeviceMetrics = ReturnType<typeof createDeviceMetrics>;
