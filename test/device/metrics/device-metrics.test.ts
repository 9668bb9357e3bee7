import { describe, expect, it } from 'vitest';
import { createDeviceMetrics } from '../../../device/metrics/device-metrics.ts';
import { metricsConfigSchema } from '../../../device/metrics/config.ts';

/** Minimal line check of the text format: every sample line is `name{labels} value`. */
const sampleLine = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? (\+Inf|-Inf|NaN|-?[0-9.e+-]+)$/;

describe('device metrics', () => {
  it('pre-declares every metric the daemon updates and renders valid lines', () => {
    let depth = 4;
    const m = createDeviceMetrics({ outboxDepth: () => depth, gallerySize: () => 12 });
    m.framesCaptured.inc();
    m.framesCaptured.inc();
    m.framesProcessed.inc();
    m.framesDropped.inc({ reason: 'busy' });
    m.facesDetected.inc(undefined, 2);
    m.recordDecision({ granted: false, reason: 'outside_schedule' });
    m.recordDecision({ granted: true, reason: 'granted' });
    m.frameToDecision.observe(undefined, 0.18);
    m.inference.observe({ stage: 'detect' }, 0.012);
    m.setDoorState('main', 'unlocked');
    m.cameraUp.set(undefined, 1);
    m.markFrame(new Date(1_700_000_000_000));
    depth = 5;
    const text = m.registry.render();
    for (const name of [
      'frames_captured_total', 'frames_processed_total', 'frames_dropped_total', 'faces_detected_total', 'decisions_total',
      'frame_to_decision_seconds', 'inference_seconds', 'door_state', 'camera_up', 'last_frame_timestamp_seconds', 'outbox_depth', 'gallery_size',
    ]) {
      expect(text).toContain(`# TYPE portier_${name} `);
    }
    expect(text).toContain('portier_frames_captured_total 2\n');
    expect(text).toContain('portier_frames_dropped_total{reason="busy"} 1\n');
    expect(text).toContain('portier_faces_detected_total 2\n');
    expect(text).toContain('portier_decisions_total{result="denied",reason="outside_schedule"} 1\n');
    expect(text).toContain('portier_decisions_total{result="granted",reason="granted"} 1\n');
    expect(text).toContain('portier_decisions_total{result="denied",reason="not_live"} 0\n');
    expect(text).toContain('portier_frame_to_decision_seconds_bucket{le="0.2"} 1\n');
    expect(text).toContain('portier_frame_to_decision_seconds_bucket{le="0.1"} 0\n');
    expect(text).toContain('portier_inference_seconds_bucket{stage="detect",le="0.02"} 1\n');
    expect(text).toContain('portier_inference_seconds_count{stage="liveness"} 0\n');
    expect(text).toContain('portier_door_state{door="main",state="unlocked"} 1\n');
    expect(text).toContain('portier_door_state{door="main",state="locked"} 0\n');
    expect(text).toContain('portier_last_frame_timestamp_seconds 1700000000\n');
    expect(text).toContain('portier_outbox_depth 5\n');
    expect(text).toContain('portier_gallery_size 12\n');
    for (const line of text.trimEnd().split('\n')) {
      if (line.startsWith('#')) expect(line).toMatch(/^# (HELP|TYPE) portier_[a-z_]+ /);
      else expect(line).toMatch(sampleLine);
    }
  });

  it('door state is a state set: switching state flips both series', () => {
    const m = createDeviceMetrics();
    m.setDoorState('main', 'unlocked');
    m.setDoorState('main', 'locked');
    expect(m.doorState.get({ door: 'main', state: 'locked' })).toBe(1);
    expect(m.doorState.get({ door: 'main', state: 'unlocked' })).toBe(0);
  });

  it('config sets prefix and buckets, and rejects unordered buckets', () => {
    const cfg = metricsConfigSchema.parse({ prefix: 'door_', frameToDecisionBuckets: [0.5, 1] });
    const text = createDeviceMetrics({ config: cfg }).registry.render();
    expect(text).toContain('door_frame_to_decision_seconds_bucket{le="0.5"} 0\n');
    expect(text).not.toContain('portier_');
    expect(metricsConfigSchema.safeParse({ inferenceBuckets: [1, 0.5] }).success).toBe(false);
    expect(metricsConfigSchema.safeParse({ other: 1 }).success).toBe(false);
  });
});
