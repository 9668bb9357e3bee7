import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createDeviceMetrics, syncRejectReasons } from '../../../device/metrics/device-metrics.ts';
import { metricsConfigSchema } from '../../../device/metrics/config.ts';

/**
 * Minimal line check of the text format: every sample line is `name{labels} value`. prom-client
 * prints NaN as `Nan` (the event-loop lag before its first sample); Prometheus parses floats with
 * Go's ParseFloat, which takes any case.
 */
const sampleLine = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? (\+Inf|-Inf|NaN|Nan|-?[0-9.e+-]+)$/;

/** Value of one sample line, found by exact name and label set (label order ignored). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.keys(got).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('device metrics (prom-client)', () => {
  it('declares every metric the daemon updates, counts what happened, and renders valid lines', async () => {
    let depth = 4;
    const m = createDeviceMetrics({ outboxDepth: () => depth, gallerySize: () => 12 });
    m.framesCaptured.inc();
    m.framesCaptured.inc();
    m.framesProcessed.inc();
    m.framesDropped.inc({ reason: 'busy' });
    m.facesDetected.inc(2);
    m.recordDecision({ granted: false, reason: 'outside_schedule' });
    m.recordDecision({ granted: false, reason: 'outside_schedule' });
    m.recordDecision({ granted: true, reason: 'granted' });
    m.frameToDecision.observe(0.18);
    m.inference.observe({ stage: 'detect' }, 0.012);
    m.setDoorState('main', 'unlocked');
    m.cameraUp.set(1);
    m.markFrame(new Date(1_700_000_000_000));
    depth = 5;
    const text = await m.registry.metrics();
    for (const name of [
      'frames_captured_total', 'frames_processed_total', 'frames_dropped_total', 'faces_detected_total', 'decisions_total',
      'frame_to_decision_seconds', 'inference_seconds', 'door_state', 'camera_up', 'last_frame_timestamp_seconds', 'outbox_depth', 'gallery_size',
      'sync_connected', 'sync_rejected_total', 'outbox_near_cap', 'sync_cursor', 'sync_lag_seconds',
    ]) {
      expect(text).toContain(`# TYPE portier_${name} `);
    }
    expect(sample(text, 'portier_frames_captured_total')).toBe(2);
    expect(sample(text, 'portier_frames_processed_total')).toBe(1);
    expect(sample(text, 'portier_frames_dropped_total', { reason: 'busy' })).toBe(1);
    expect(sample(text, 'portier_faces_detected_total')).toBe(2);
    expect(sample(text, 'portier_decisions_total', { result: 'denied', reason: 'outside_schedule' })).toBe(2);
    expect(sample(text, 'portier_decisions_total', { result: 'granted', reason: 'granted' })).toBe(1);
    // Pre-declared at 0, so alerts on rate() see the series before the first event.
    expect(sample(text, 'portier_decisions_total', { result: 'denied', reason: 'not_live' })).toBe(0);
    expect(sample(text, 'portier_frame_to_decision_seconds_bucket', { le: '0.2' })).toBe(1);
    expect(sample(text, 'portier_frame_to_decision_seconds_bucket', { le: '0.1' })).toBe(0);
    expect(sample(text, 'portier_frame_to_decision_seconds_bucket', { le: '+Inf' })).toBe(1);
    expect(sample(text, 'portier_frame_to_decision_seconds_sum')).toBeCloseTo(0.18);
    expect(sample(text, 'portier_inference_seconds_bucket', { stage: 'detect', le: '0.01' })).toBe(0);
    expect(sample(text, 'portier_inference_seconds_bucket', { stage: 'detect', le: '0.02' })).toBe(1);
    expect(sample(text, 'portier_inference_seconds_count', { stage: 'liveness' })).toBe(0);
    expect(sample(text, 'portier_door_state', { door: 'main', state: 'unlocked' })).toBe(1);
    expect(sample(text, 'portier_door_state', { door: 'main', state: 'locked' })).toBe(0);
    expect(sample(text, 'portier_camera_up')).toBe(1);
    expect(sample(text, 'portier_last_frame_timestamp_seconds')).toBe(1_700_000_000);
    // Collected at scrape time, not when the metric was made.
    expect(sample(text, 'portier_outbox_depth')).toBe(5);
    expect(sample(text, 'portier_gallery_size')).toBe(12);
    for (const line of text.trimEnd().split('\n')) {
      if (line === '') continue; // prom-client separates metric families by a blank line, which the format allows
      if (line.startsWith('#')) expect(line).toMatch(/^# (HELP|TYPE) portier_[a-z0-9_]+ /);
      else expect(line).toMatch(sampleLine);
    }
  });

  it('sync metrics start at 0 and follow what the sync module sets', async () => {
    const m = createDeviceMetrics({ processMetrics: false });
    let text = await m.registry.metrics();
    for (const name of ['sync_connected', 'outbox_near_cap', 'sync_cursor', 'sync_lag_seconds', 'camera_up']) expect(sample(text, `portier_${name}`)).toBe(0);
    for (const reason of syncRejectReasons) expect(sample(text, 'portier_sync_rejected_total', { reason })).toBe(0);

    m.syncConnected.set(1);
    m.syncRejected.inc({ reason: 'replayed' });
    m.syncRejected.inc({ reason: 'replayed' });
    m.syncRejected.inc({ reason: 'wrong_key' });
    m.outboxNearCap.set(1);
    m.syncCursor.set(1234);
    m.syncLagSeconds.set(2.5);
    text = await m.registry.metrics();
    expect(sample(text, 'portier_sync_connected')).toBe(1);
    expect(sample(text, 'portier_sync_rejected_total', { reason: 'replayed' })).toBe(2);
    expect(sample(text, 'portier_sync_rejected_total', { reason: 'wrong_key' })).toBe(1);
    expect(sample(text, 'portier_sync_rejected_total', { reason: 'expired' })).toBe(0);
    expect(sample(text, 'portier_outbox_near_cap')).toBe(1);
    expect(sample(text, 'portier_sync_cursor')).toBe(1234);
    expect(sample(text, 'portier_sync_lag_seconds')).toBe(2.5);
  });

  it('door state is a state set: switching state flips both series', async () => {
    const m = createDeviceMetrics({ processMetrics: false });
    m.setDoorState('main', 'unlocked');
    m.setDoorState('main', 'locked');
    m.setDoorState('side', 'held_open');
    const values = (await m.doorState.get()).values.map((v) => [v.labels.door, v.labels.state, v.value]);
    expect(values).toEqual(
      expect.arrayContaining([
        ['main', 'locked', 1],
        ['main', 'unlocked', 0],
        ['side', 'held_open', 1],
        ['side', 'locked', 0],
        ['side', 'unlocked', 0],
      ]),
    );
    expect(values).toHaveLength(5);
  });

  it('exports the Node.js process metrics under the same prefix, on its own registry only', async () => {
    const m = createDeviceMetrics();
    const text = await m.registry.metrics();
    for (const name of [
      'process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds',
      'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds', 'nodejs_version_info',
    ]) {
      expect(text).toContain(`# TYPE portier_${name} `);
    }
    expect(sample(text, 'portier_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(await createDeviceMetrics({ processMetrics: false }).registry.metrics()).not.toContain('process_cpu');
  });

  it('two devices in one process keep separate registries and counts; the global registry stays empty', async () => {
    const { register } = await import('prom-client');
    const a = createDeviceMetrics();
    const b = createDeviceMetrics();
    expect(a.registry).not.toBe(b.registry);
    a.recordDecision({ granted: true, reason: 'granted' });
    a.recordDecision({ granted: true, reason: 'granted' });
    b.recordDecision({ granted: false, reason: 'unknown' });
    const ta = await a.registry.metrics();
    const tb = await b.registry.metrics();
    expect(sample(ta, 'portier_decisions_total', { result: 'granted', reason: 'granted' })).toBe(2);
    expect(sample(ta, 'portier_decisions_total', { result: 'denied', reason: 'unknown' })).toBe(0);
    expect(sample(tb, 'portier_decisions_total', { result: 'granted', reason: 'granted' })).toBe(0);
    expect(sample(tb, 'portier_decisions_total', { result: 'denied', reason: 'unknown' })).toBe(1);
    expect(register.getMetricsAsArray()).toHaveLength(0);
  });

  it('can share a caller-given registry and uses its content type', async () => {
    const registry = new Registry();
    const m = createDeviceMetrics({ registry, processMetrics: false });
    expect(m.registry).toBe(registry);
    expect(registry.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(registry.getSingleMetric('portier_camera_up')).toBe(m.cameraUp);
    // A second set on the same registry is a programming error prom-client refuses.
    expect(() => createDeviceMetrics({ registry, processMetrics: false })).toThrow(/already been registered/);
  });

  it('config sets prefix and buckets, and rejects unordered buckets', async () => {
    const cfg = metricsConfigSchema.parse({ prefix: 'door_', frameToDecisionBuckets: [0.5, 1] });
    const text = await createDeviceMetrics({ config: cfg }).registry.metrics();
    expect(sample(text, 'door_frame_to_decision_seconds_bucket', { le: '0.5' })).toBe(0);
    expect(sample(text, 'door_frame_to_decision_seconds_bucket', { le: '0.75' })).toBeUndefined();
    expect(text).toContain('# TYPE door_process_cpu_seconds_total counter');
    expect(text).not.toContain('portier_');
    expect(metricsConfigSchema.safeParse({ inferenceBuckets: [1, 0.5] }).success).toBe(false);
    expect(metricsConfigSchema.safeParse({ other: 1 }).success).toBe(false);
  });
});
