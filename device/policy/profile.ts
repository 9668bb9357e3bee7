/**
 * Access data per person and per group, as stored with the gallery and synced from the gateway.
 * Validated with these schemas when it is loaded, so decide() can stay a pure, total function.
 */
import { z } from 'zod';
import { weekdays } from './clock.ts';

const hhmm = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

/** "HH:MM" to minutes since midnight; "24:00" is allowed as the end of a day. */
export function parseClock(text: string): number {
  if (!hhmm.test(text)) throw new Error(`invalid time of day "${text}" (expected HH:MM, 00:00..24:00)`);
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
}

export const scheduleSchema = z
  .strictObject({
    door: z.string().min(1).describe('Door id the window applies to, or "*" for every door.'),
    days: z.array(z.enum(weekdays)).min(1).describe('Days on which the window STARTS (a window crossing midnight ends on the next day).'),
    from: z.string().regex(hhmm, 'expected HH:MM').describe('Local start time, inclusive.'),
    to: z.string().regex(hhmm, 'expected HH:MM').describe('Local end time, exclusive; earlier than `from` means the window crosses midnight.'),
  })
  .refine((s) => s.from !== s.to, { message: 'from and to are equal; use 00:00-24:00 for a whole day' })
  .refine((s) => s.from !== '24:00', { message: 'from cannot be 24:00' });
export type Schedule = z.output<typeof scheduleSchema>;

/** A timestamp with an offset is an instant; a plain date is a whole local day in the policy time zone. */
const validityBound = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const accessProfileSchema = z.strictObject({
  id: z.string().min(1).describe('Person id.'),
  active: z.boolean().default(true).describe('A deactivated person is refused everywhere.'),
  validFrom: validityBound.nullable().default(null).describe('First instant (or local date) of validity; null = no start.'),
  validUntil: validityBound.nullable().default(null).describe('Instant validity ends (exclusive) or last local date (inclusive); null = no end.'),
  groups: z.array(z.string().min(1)).default([]).describe('Group ids whose schedules also apply.'),
  schedules: z.array(scheduleSchema).default([]).describe('Weekly access windows of this person.'),
});
export type AccessProfile = z.output<typeof accessProfileSchema>;
/** What decide() reads; looser than the schema output so callers can pass their own person records. */
export type AccessSubject = Pick<AccessProfile, 'id'> & Partial<Omit<AccessProfile, 'id'>> & {
  /** Set when the stored record failed validation: the person is refused as invalid_profile. */
  invalid?: string;
};

/** Parse a stored or received person record; a record that fails is flagged, never trusted. */
export function toAccessSubject(raw: { id: string } & Record<string, unknown>): AccessSubject {
  const r = accessProfileSchema.safeParse({ id: raw.id, active: raw.active, validFrom: raw.validFrom, validUntil: raw.validUntil, groups: raw.groups, schedules: raw.schedules });
  if (r.success) return r.data;
  return { id: raw.id, invalid: r.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ') };
}

export const accessGroupSchema = z.strictObject({
  id: z.string().min(1).describe('Group id.'),
  schedules: z.array(scheduleSchema).default([]).describe('Weekly access windows shared by the members.'),
});
export type AccessGroup = z.output<typeof accessGroupSchema>;
