import { livenessFailures } from '../../../device/liveness/attempt.ts';
import { describe, expect, it } from 'vitest';
import { decide, decisionReasons, type DecisionContext } from '../../../device/policy/decide.ts';
import { policyConfigSchema, type PolicyConfig } from '../../../device/policy/config.ts';
import { accessProfileSchema, type AccessSubject } from '../../../device/policy/profile.ts';

const weekdays9to5 = { door: 'main', days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, from: '09:00', to: '17:00' };

function ctx(over: Partial<Omit<DecisionContext, 'policy'>> & { policy?: Partial<PolicyConfig> } = {}): DecisionContext {
  const { policy, ...rest } = over;
  return {
    door: 'main',
    // Wednesday 2025-01-15 10:00 UTC
    now: new Date('2025-01-15T10:00:00Z'),
    live: true,
    matchScore: 0.6,
    margin: 0.3,
    policy: policyConfigSchema.parse(policy ?? {}),
    ...rest,
  };
}

const alice: AccessSubject = { id: 'alice', active: true, groups: [], schedules: [{ ...weekdays9to5, days: [...weekdays9to5.days] }] };

describe('decide: one test per reason', () => {
  it('grants a known, live, valid person inside their schedule', () => {
    expect(decide(alice, ctx())).toEqual({ granted: true, reason: 'granted', personId: 'alice' });
  });
  it('unknown: no matched person', () => {
    expect(decide(undefined, ctx())).toEqual({ granted: false, reason: 'unknown' });
  });
  it('not_live: liveness failed', () => {
    expect(decide(alice, ctx({ live: false }))).toEqual({ granted: false, reason: 'not_live', personId: 'alice' });
  });
  it('not_live:<cue>: the refusal names the liveness cue that failed', () => {
    for (const cue of livenessFailures) expect(decide(alice, ctx({ live: false, liveFailure: cue }))).toEqual({ granted: false, reason: `not_live:${cue}`, personId: 'alice' });
    expect(decide(alice, ctx({ live: true, liveFailure: 'passive' })).reason).toBe('granted');
  });
  it('liveness can be switched off by policy', () => {
    expect(decide(alice, ctx({ live: false, policy: { requireLiveness: false } })).reason).toBe('granted');
  });
  it('low_score: similarity under the policy bar', () => {
    expect(decide(alice, ctx({ matchScore: 0.4, policy: { minMatchScore: 0.5 } })).reason).toBe('low_score');
    expect(decide(alice, ctx({ matchScore: Number.NaN })).reason).toBe('low_score');
  });
  it('low_margin: a second person scores too close', () => {
    expect(decide(alice, ctx({ margin: 0.01 })).reason).toBe('low_margin');
    expect(decide(alice, ctx({ margin: 0.05 })).reason).toBe('granted');
    expect(decide(alice, ctx({ margin: undefined })).reason).toBe('granted');
    expect(decide(alice, ctx({ margin: 0.01, policy: { minMargin: 0 } })).reason).toBe('granted');
  });
  it('inactive', () => {
    expect(decide({ ...alice, active: false }, ctx()).reason).toBe('inactive');
  });
  it('not_yet_valid and expired with instants (from inclusive, until exclusive)', () => {
    expect(decide({ ...alice, validFrom: '2025-01-15T10:00:01Z' }, ctx()).reason).toBe('not_yet_valid');
    expect(decide({ ...alice, validFrom: '2025-01-15T10:00:00Z' }, ctx()).reason).toBe('granted');
    expect(decide({ ...alice, validUntil: '2025-01-15T10:00:00Z' }, ctx()).reason).toBe('expired');
    expect(decide({ ...alice, validUntil: '2025-01-15T11:00:00+01:00' }, ctx()).reason).toBe('expired');
    expect(decide({ ...alice, validUntil: '2025-01-15T10:00:01Z' }, ctx()).reason).toBe('granted');
  });
  it('date-only validity is a whole local day in the policy zone', () => {
    // 2025-01-15T23:30Z is already 2025-01-16 00:30 in Berlin.
    const late = new Date('2025-01-15T23:30:00Z');
    const anyTime = { ...alice, schedules: [{ door: '*', days: ['wed', 'thu'] as ('wed' | 'thu')[], from: '00:00', to: '24:00' }] };
    expect(decide({ ...anyTime, validUntil: '2025-01-15' }, ctx({ now: late })).reason).toBe('granted');
    expect(decide({ ...anyTime, validUntil: '2025-01-15' }, ctx({ now: late, policy: { timeZone: 'Europe/Berlin' } })).reason).toBe('expired');
    expect(decide({ ...anyTime, validFrom: '2025-01-16' }, ctx({ now: late, policy: { timeZone: 'Europe/Berlin' } })).reason).toBe('granted');
    expect(decide({ ...anyTime, validFrom: '2025-01-16' }, ctx({ now: late })).reason).toBe('not_yet_valid');
  });
  it('invalid_profile: unparseable or offset-less bounds and broken schedules refuse instead of widening', () => {
    expect(decide({ ...alice, validUntil: 'soon' }, ctx()).reason).toBe('invalid_profile');
    expect(decide({ ...alice, validFrom: '2025-01-01T00:00:00' }, ctx()).reason).toBe('invalid_profile');
    expect(decide({ ...alice, schedules: [{ door: 'main', days: ['wed'], from: '9am', to: '17:00' }] }, ctx()).reason).toBe('invalid_profile');
    expect(decide({ ...alice, schedules: [{ door: 'main', days: ['wed'], from: '10:00', to: '10:00' }] }, ctx()).reason).toBe('invalid_profile');
  });
  it('no_access_to_door: schedules exist, none for this door', () => {
    expect(decide(alice, ctx({ door: 'garage' })).reason).toBe('no_access_to_door');
  });
  it('no_access_to_door for a person without any schedule unless unscheduledAccess=all', () => {
    const bob: AccessSubject = { id: 'bob' };
    expect(decide(bob, ctx()).reason).toBe('no_access_to_door');
    expect(decide(bob, ctx({ policy: { unscheduledAccess: 'all' } })).reason).toBe('granted');
  });
  it('outside_schedule: right door, wrong time or day', () => {
    expect(decide(alice, ctx({ now: new Date('2025-01-15T17:00:00Z') })).reason).toBe('outside_schedule');
    expect(decide(alice, ctx({ now: new Date('2025-01-15T16:59:59Z') })).reason).toBe('granted');
    expect(decide(alice, ctx({ now: new Date('2025-01-15T08:59:00Z') })).reason).toBe('outside_schedule');
    // Saturday
    expect(decide(alice, ctx({ now: new Date('2025-01-18T10:00:00Z') })).reason).toBe('outside_schedule');
  });
  it('the first failing check wins (liveness before validity)', () => {
    expect(decide({ ...alice, active: false }, ctx({ live: false })).reason).toBe('not_live');
  });
  it('every reason in the enum is reachable by a test above', () => {
    expect([...decisionReasons].sort()).toEqual(
      ['granted', 'unknown', 'not_live', ...livenessFailures.map((f) => `not_live:${f}`), 'low_score', 'low_margin', 'invalid_profile', 'inactive', 'not_yet_valid', 'expired', 'no_access_to_door', 'outside_schedule'].sort(),
    );
  });
});

describe('decide: doors and groups', () => {
  const groups = {
    staff: { id: 'staff', schedules: [{ door: '*', days: ['sat' as const], from: '08:00', to: '12:00' }] },
  };
  it('a wildcard door schedule applies to every door', () => {
    const p: AccessSubject = { id: 'p', schedules: [{ door: '*', days: ['wed'], from: '00:00', to: '24:00' }] };
    expect(decide(p, ctx({ door: 'garage' })).reason).toBe('granted');
  });
  it('group schedules add to the person’s own', () => {
    const p: AccessSubject = { ...alice, groups: ['staff'] };
    const saturday10 = new Date('2025-01-18T10:00:00Z');
    expect(decide(p, ctx({ now: saturday10, groups })).reason).toBe('granted');
    expect(decide(p, ctx({ now: saturday10 })).reason).toBe('outside_schedule');
    // group's wildcard door gives garage access on Saturday only
    expect(decide(p, ctx({ now: saturday10, door: 'garage', groups })).reason).toBe('granted');
    expect(decide(p, ctx({ door: 'garage', groups })).reason).toBe('outside_schedule');
  });
  it('a person with only an unknown group has no schedule', () => {
    expect(decide({ id: 'x', groups: ['ghosts'] }, ctx({ groups })).reason).toBe('no_access_to_door');
  });
});

describe('decide: time zone, midnight, DST', () => {
  const berlin = { timeZone: 'Europe/Berlin' };
  it('evaluates schedules in the configured zone, not UTC', () => {
    // 08:30 UTC on Wednesday = 09:30 in Berlin (CET, +1) and 03:30 in New York.
    const now = new Date('2025-01-15T08:30:00Z');
    expect(decide(alice, ctx({ now })).reason).toBe('outside_schedule');
    expect(decide(alice, ctx({ now, policy: berlin })).reason).toBe('granted');
    expect(decide(alice, ctx({ now, policy: { timeZone: 'America/New_York' } })).reason).toBe('outside_schedule');
  });
  it('the weekday is the local one', () => {
    // Friday 23:30 UTC is Saturday 08:30 in Tokyo.
    const p: AccessSubject = { id: 'p', schedules: [{ door: 'main', days: ['sat'], from: '08:00', to: '09:00' }] };
    const now = new Date('2025-01-17T23:30:00Z');
    expect(decide(p, ctx({ now, policy: { timeZone: 'Asia/Tokyo' } })).reason).toBe('granted');
    expect(decide(p, ctx({ now })).reason).toBe('outside_schedule');
  });
  it('a window crossing midnight belongs to the day it starts', () => {
    const night: AccessSubject = { id: 'n', schedules: [{ door: 'main', days: ['fri'], from: '22:00', to: '06:00' }] };
    const at = (iso: string) => decide(night, ctx({ now: new Date(iso) })).reason;
    expect(at('2025-01-17T21:59:00Z')).toBe('outside_schedule'); // Fri 21:59
    expect(at('2025-01-17T22:00:00Z')).toBe('granted'); // Fri 22:00
    expect(at('2025-01-17T23:59:00Z')).toBe('granted');
    expect(at('2025-01-18T00:00:00Z')).toBe('granted'); // Sat 00:00
    expect(at('2025-01-18T05:59:00Z')).toBe('granted');
    expect(at('2025-01-18T06:00:00Z')).toBe('outside_schedule'); // end exclusive
    expect(at('2025-01-18T22:30:00Z')).toBe('outside_schedule'); // Sat night not listed
    expect(at('2025-01-17T03:00:00Z')).toBe('outside_schedule'); // Fri early = Thu's night, not listed
  });
  it('spring-forward day (Berlin 2024-03-31, 02:00 -> 03:00): wall clock decides', () => {
    const sunday = { id: 's', schedules: [{ door: 'main', days: ['sun' as const], from: '07:00', to: '19:00' }] };
    // 05:30 UTC = 07:30 CEST (would be 06:30 with the winter offset)
    expect(decide(sunday, ctx({ now: new Date('2024-03-31T05:30:00Z'), policy: berlin })).reason).toBe('granted');
    expect(decide(sunday, ctx({ now: new Date('2024-03-31T04:59:00Z'), policy: berlin })).reason).toBe('outside_schedule');
    // 17:00 UTC = 19:00 CEST: window closed (would be 18:00 with the winter offset)
    expect(decide(sunday, ctx({ now: new Date('2024-03-31T17:00:00Z'), policy: berlin })).reason).toBe('outside_schedule');
    // The night window 22:00-06:00 from Saturday is an hour shorter in real time but ends at 06:00 local.
    const night = { id: 'n', schedules: [{ door: 'main', days: ['sat' as const], from: '22:00', to: '06:00' }] };
    expect(decide(night, ctx({ now: new Date('2024-03-31T03:59:00Z'), policy: berlin })).reason).toBe('granted'); // 05:59 CEST
    expect(decide(night, ctx({ now: new Date('2024-03-31T04:00:00Z'), policy: berlin })).reason).toBe('outside_schedule'); // 06:00 CEST
  });
  it('fall-back day (Berlin 2024-10-27, 03:00 -> 02:00): the repeated hour is inside a window covering it both times', () => {
    const early = { id: 'e', schedules: [{ door: 'main', days: ['sun' as const], from: '02:00', to: '03:00' }] };
    const at = (iso: string) => decide(early, ctx({ now: new Date(iso), policy: berlin })).reason;
    expect(at('2024-10-27T00:30:00Z')).toBe('granted'); // 02:30 CEST
    expect(at('2024-10-27T01:30:00Z')).toBe('granted'); // 02:30 CET, second time
    expect(at('2024-10-27T02:00:00Z')).toBe('outside_schedule'); // 03:00 CET
    expect(at('2024-10-26T23:59:00Z')).toBe('outside_schedule'); // 01:59 CEST
  });
});

describe('profile schema', () => {
  it('fills defaults and accepts valid records', () => {
    const p = accessProfileSchema.parse({ id: 'a', schedules: [{ door: 'main', days: ['mon'], from: '22:00', to: '06:00' }], validUntil: '2025-12-31' });
    expect(p).toMatchObject({ active: true, groups: [], validFrom: null, validUntil: '2025-12-31' });
  });
  it('rejects malformed schedules and offset-less timestamps with a clear path', () => {
    const bad = accessProfileSchema.safeParse({
      id: 'a',
      validFrom: '2025-01-01T08:00:00',
      schedules: [{ door: 'main', days: ['monday'], from: '25:00', to: '10:00' }],
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['validFrom', 'schedules.0.days.0', 'schedules.0.from']));
    expect(accessProfileSchema.safeParse({ id: 'a', schedules: [{ door: 'main', days: ['mon'], from: '10:00', to: '10:00' }] }).success).toBe(false);
    expect(accessProfileSchema.safeParse({ id: 'a', extra: 1 }).success).toBe(false);
  });
  it('policy config rejects an unknown time zone and unknown keys', () => {
    expect(policyConfigSchema.safeParse({ timeZone: 'Mars/Olympus' }).success).toBe(false);
    expect(policyConfigSchema.safeParse({ tz: 'UTC' }).success).toBe(false);
    expect(policyConfigSchema.parse({})).toEqual({ timeZone: 'UTC', requireLiveness: true, minMatchScore: 0, minMargin: 0.05, unscheduledAccess: 'none' });
  });
});
