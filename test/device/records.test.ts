/**
 * Records are validated where they enter a decision: a person row with schedules that are not a
 * list, or days written as one string, is refused as invalid_profile with a logged reason, and
 * the frame loop carries on.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addLogSink, type LogRecord } from '../../core/log/logger.ts';
import { enrolPerson } from '../../device/enrol.ts';
import type { DecisionEvent } from '../../device/recognition/loop.ts';
import { decide } from '../../device/policy/decide.ts';
import { toAccessSubject } from '../../device/policy/profile.ts';
import { defaultPolicyConfig } from '../../device/policy/config.ts';
import { fixture, hasModels, skipReason } from '../helpers.ts';
import { ALL_WEEK, deviceSuite, idleCamera, runDevice, testConfig } from './harness.ts';

const ctx = { door: 'main', now: new Date('2026-06-01T10:00:00Z'), live: true, matchScore: 0.9, policy: defaultPolicyConfig() };

describe('person records at the decision', () => {
  it('a malformed record is refused as invalid_profile; substring days never grant', () => {
    const bad = [
      { id: 'a', active: true, validFrom: null, validUntil: null, groups: [], schedules: {} },
      { id: 'b', active: true, validFrom: null, validUntil: null, groups: [], schedules: [{ door: '*', days: 'mon tue wed thu fri sat sun', from: '00:00', to: '24:00' }] },
      { id: 'c', active: 'yes', validFrom: null, validUntil: null, groups: 'staff', schedules: [] },
    ];
    for (const raw of bad) {
      const s = toAccessSubject(raw);
      expect(s.invalid, raw.id).toBeTruthy();
      expect(decide(s, ctx)).toMatchObject({ granted: false, reason: 'invalid_profile' });
    }
    const good = toAccessSubject({ id: 'd', active: true, validFrom: null, validUntil: null, groups: [], schedules: ALL_WEEK });
    expect(good.invalid).toBeUndefined();
    expect(decide(good, ctx).granted).toBe(true);
  });
});

describe.skipIf(skipReason(hasModels, 'models/ missing'))('a device with a corrupted person row', () => {
  const suite = deviceSuite();
  it('refuses with invalid_profile, logs why, and keeps processing frames', async () => {
    const d = suite.dir();
    // Frames are fed faster than an approach lasts; liveness has its own tests (liveness.test.ts).
    const device = await runDevice(testConfig(d, { ...idleCamera(d), liveness: { level: 'off' } }), suite.engine());
    const photo = readFileSync(fixture('grace_hopper.jpg'));
    await enrolPerson(device, { id: 'grace', name: 'Grace', active: true, validFrom: null, validUntil: null, groups: [], schedules: ALL_WEEK }, [{ label: 'g', data: photo }]);
    // The row is damaged behind the gallery's back (a bad sync, a hand edit).
    device.store.persons.upsert({ id: 'grace', name: 'Grace', active: true, validFrom: null, validUntil: null, groups: [], schedules: { door: '*' } });
    const logs: LogRecord[] = [];
    const unsink = addLogSink((r) => logs.push(r));
    const decisions: DecisionEvent[] = [];
    device.on('decision', (e: DecisionEvent) => decisions.push(e));
    let frames = 0;
    device.loop.on('frame', () => frames++);
    for (let i = 0; i < 8; i++) await device.loop.processFrame({ data: photo, format: 'jpeg', ts: Date.now(), seq: i });
    unsink();
    await device.stop();
    expect(decisions.map((x) => x.reason)).toEqual(['invalid_profile']);
    expect(frames).toBe(8);
    expect(logs.some((l) => l.level === 'error' && /person record is invalid/.test(l.msg))).toBe(true);
  }, 60_000);

  it('a row whose JSON does not parse is refused the same way, without an unrecorded decision', async () => {
    const d = suite.dir();
    // Frames are fed faster than an approach lasts; liveness has its own tests (liveness.test.ts).
    const device = await runDevice(testConfig(d, { ...idleCamera(d), liveness: { level: 'off' } }), suite.engine());
    const photo = readFileSync(fixture('grace_hopper.jpg'));
    await enrolPerson(device, { id: 'grace', name: 'Grace', active: true, validFrom: null, validUntil: null, groups: [], schedules: ALL_WEEK }, [{ label: 'g', data: photo }]);
    device.store.db.prepare("UPDATE persons SET schedules = '{not json' WHERE id = 'grace'").run();
    const decisions: DecisionEvent[] = [];
    device.on('decision', (e: DecisionEvent) => decisions.push(e));
    for (let i = 0; i < 8; i++) await device.loop.processFrame({ data: photo, format: 'jpeg', ts: Date.now(), seq: i });
    await device.stop();
    expect(decisions.map((x) => x.reason)).toEqual(['invalid_profile']);
  }, 60_000);
});
