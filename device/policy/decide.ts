/**
 * The access decision: a pure function of the matched person, the moment and the recognition
 * result. Every refusal names one reason so that logs, metrics and the gateway can tell a spoof
 * from an expired badge. Checks run from "who is this" to "may they enter here now"; the first
 * failing check is the reason.
 */
import { localTime, type LocalTime } from './clock.ts';
import type { PolicyConfig } from './config.ts';
import type { AccessGroup, AccessSubject, Schedule } from './profile.ts';
import { appliesToDoor, scheduleCovers } from './schedule.ts';
import { livenessFailures, type LivenessFailure } from '../liveness/attempt.ts';

export const decisionReasons = [
  'granted',
  'unknown',
  /** Liveness refused without saying which cue (the liveness check was not run per cue). */
  'not_live',
  /** Liveness refused; the suffix names the cue that pulled hardest towards "attack". */
  ...livenessFailures.map((f) => `not_live:${f}` as const),
  'low_score',
  'low_margin',
  'invalid_profile',
  'inactive',
  'not_yet_valid',
  'expired',
  'no_access_to_door',
  'outside_schedule',
] as const;
export type DecisionReason = (typeof decisionReasons)[number];

export interface Decision {
  granted: boolean;
  reason: DecisionReason;
  /** Set whenever a person was matched, granted or not. */
  personId?: string;
}

export interface DecisionContext {
  door: string;
  now: Date;
  /** Liveness verdict for the face. */
  live: boolean;
  /** Which cue failed when `live` is false (reason not_live:<cue>); plain not_live when absent. */
  liveFailure?: LivenessFailure;
  /** Similarity of the face to the matched person. */
  matchScore: number;
  /** Best score minus the best score of any other person; undefined when no other person is enrolled. */
  margin?: number;
  /** Group definitions by id; a person's group missing here contributes no schedule. */
  groups?: Readonly<Record<string, AccessGroup | undefined>>;
  policy: PolicyConfig;
}

export function decide(person: AccessSubject | undefined, ctx: DecisionContext): Decision {
  if (!person) return { granted: false, reason: 'unknown' };
  const refuse = (reason: DecisionReason): Decision => ({ granted: false, reason, personId: person.id });
  const { policy } = ctx;

  if (policy.requireLiveness && !ctx.live) return refuse(ctx.liveFailure ? `not_live:${ctx.liveFailure}` : 'not_live');
  if (!(ctx.matchScore >= policy.minMatchScore)) return refuse('low_score');
  if (policy.minMargin > 0 && ctx.margin !== undefined && !(ctx.margin >= policy.minMargin)) return refuse('low_margin');

  let local: LocalTime;
  try {
    local = localTime(ctx.now, policy.timeZone);
  } catch {
    return refuse('invalid_profile');
  }

  if (person.invalid !== undefined) return refuse('invalid_profile');
  if (person.active === false) return refuse('inactive');
  const from = boundState(person.validFrom, ctx.now, local);
  const until = boundState(person.validUntil, ctx.now, local);
  if (from === 'invalid' || until === 'invalid') return refuse('invalid_profile');
  if (from === 'before') return refuse('not_yet_valid');
  if (until === 'after') return refuse('expired');

  const all = collectSchedules(person, ctx.groups);
  if (all.length === 0) return policy.unscheduledAccess === 'all' ? grant(person.id) : refuse('no_access_to_door');
  const forDoor = all.filter((s) => appliesToDoor(s, ctx.door));
  if (forDoor.length === 0) return refuse('no_access_to_door');
  try {
    return forDoor.some((s) => scheduleCovers(s, local)) ? grant(person.id) : refuse('outside_schedule');
  } catch {
    return refuse('invalid_profile');
  }
}

function grant(personId: string): Decision {
  return { granted: true, reason: 'granted', personId };
}

function collectSchedules(person: AccessSubject, groups: DecisionContext['groups']): Schedule[] {
  const out: Schedule[] = [...(person.schedules ?? [])];
  for (const id of person.groups ?? []) {
    const g = groups?.[id];
    if (g) out.push(...g.schedules);
  }
  return out;
}

const plainDate = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Where `now` lies relative to a validity bound. A date-only bound is compared as a local
 * calendar day: validFrom 2025-01-01 starts at local midnight, validUntil 2025-01-31 lasts
 * through that whole local day. A bound with a time is an instant (validUntil exclusive).
 */
function boundState(bound: string | null | undefined, now: Date, local: LocalTime): 'none' | 'before' | 'inside' | 'after' | 'invalid' {
  if (bound === null || bound === undefined) return 'none';
  if (plainDate.test(bound)) {
    if (Number.isNaN(Date.parse(bound))) return 'invalid';
    return local.date < bound ? 'before' : local.date > bound ? 'after' : 'inside';
  }
  // An instant without an offset would be read in the process's zone; refuse the ambiguity.
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(bound)) return 'invalid';
  const t = Date.parse(bound);
  if (Number.isNaN(t)) return 'invalid';
  return now.getTime() < t ? 'before' : 'after';
}
