/**
 * Input shapes of the register: the same schedule and validity shapes as the device's access
 * profile (device/policy/profile.ts), defined again here because gateway/ never imports device/.
 * The HTTP API validates with these and reports every problem at once; the store validates again
 * so no caller (HTTP, sync, CLI) can write a person a device would refuse.
 */
import { z } from 'zod';

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

const hhmm = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

/** Door, device and group ids: safe in MQTT topics, file names and URLs. */
export const slugIdPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Person ids travel in payloads and AAD only; uuids and employee-style ids both fit. */
export const personIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const scheduleSchema = z
  .strictObject({
    door: z.string().min(1).max(63).describe('Door id the window applies to, or "*" for every door.'),
    days: z.array(z.enum(weekdays)).min(1).describe('Days on which the window STARTS (a window crossing midnight ends on the next day).'),
    from: z.string().regex(hhmm, 'expected HH:MM').describe('Local start time, inclusive.'),
    to: z.string().regex(hhmm, 'expected HH:MM').describe('Local end time, exclusive; earlier than `from` means the window crosses midnight.'),
  })
  .refine((s) => s.from !== s.to, { message: 'from and to are equal; use 00:00-24:00 for a whole day' })
  .refine((s) => s.from !== '24:00', { message: 'from cannot be 24:00' });
export type Schedule = z.output<typeof scheduleSchema>;

/** A timestamp with an offset is an instant; a plain date is a whole local day in the device's time zone. */
export const validityBound = z.union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'expected an ISO 8601 instant with offset or a date YYYY-MM-DD' });

/** Milliseconds for ordering and "expiring before": a date counts as its end (UTC), close enough for a filter. */
export function validityMs(bound: string | null, end: boolean): number | null {
  if (!bound) return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(bound)) return Date.parse(`${bound}T${end ? '23:59:59.999' : '00:00:00.000'}Z`);
  return Date.parse(bound);
}

const name = z.string().trim().min(1).max(200);
const groupsList = z.array(z.string().regex(slugIdPattern, 'not a group id')).max(100);
const schedulesList = z.array(scheduleSchema).max(200);

const personFields = {
  name: name.describe('Display name.'),
  employeeNo: z.string().trim().min(1).max(64).nullable().describe('Employee number; unique when set.'),
  active: z.boolean().describe('A deactivated person is refused at every door.'),
  validFrom: validityBound.nullable().describe('First instant (or local date) of validity; null = no start.'),
  validUntil: validityBound.nullable().describe('Instant validity ends (exclusive) or last local date (inclusive); null = no end.'),
  groups: groupsList.describe('Group ids whose schedules also apply.'),
  schedules: schedulesList.describe('Weekly access windows of this person.'),
};

const validityOrdered = (p: { validFrom?: string | null; validUntil?: string | null }) => {
  const a = validityMs(p.validFrom ?? null, false);
  const b = validityMs(p.validUntil ?? null, true);
  return a === null || b === null || a <= b;
};
const validityMessage = { message: 'validUntil is before validFrom', path: ['validUntil'] };

export const personCreateSchema = z
  .strictObject({
    id: z.string().regex(personIdPattern, 'letters, digits, . _ - (max 128), starting with a letter or digit').optional().describe('Person id; generated (uuid) when absent.'),
    name: personFields.name,
    employeeNo: personFields.employeeNo.default(null),
    active: personFields.active.default(true),
    validFrom: personFields.validFrom.default(null),
    validUntil: personFields.validUntil.default(null),
    groups: personFields.groups.default([]),
    schedules: personFields.schedules.default([]),
  })
  .refine(validityOrdered, validityMessage);
export type PersonCreate = z.input<typeof personCreateSchema>;

export const personPatchSchema = z
  .strictObject({
    name: personFields.name.optional(),
    employeeNo: personFields.employeeNo.optional(),
    active: personFields.active.optional(),
    validFrom: personFields.validFrom.optional(),
    validUntil: personFields.validUntil.optional(),
    groups: personFields.groups.optional(),
    schedules: personFields.schedules.optional(),
  })
  .refine(validityOrdered, validityMessage);
export type PersonPatch = z.input<typeof personPatchSchema>;

export const groupCreateSchema = z.strictObject({
  id: z.string().regex(slugIdPattern, 'lower-case letters, digits, _ and - (max 63)').optional().describe('Group id; generated when absent.'),
  name: name.describe('Display name.'),
  schedules: schedulesList.default([]).describe('Weekly access windows shared by the members.'),
});
export type GroupCreate = z.input<typeof groupCreateSchema>;
export const groupPatchSchema = z.strictObject({ name: name.optional(), schedules: schedulesList.optional() });
export type GroupPatch = z.input<typeof groupPatchSchema>;

export const doorCreateSchema = z.strictObject({
  id: z.string().regex(slugIdPattern, 'lower-case letters, digits, _ and - (max 63)').describe('Door id, as devices name it (recognition.door).'),
  name: name.optional().describe('Display name; defaults to the id.'),
});
export type DoorCreate = z.input<typeof doorCreateSchema>;
export const doorPatchSchema = z.strictObject({ name });
export type DoorPatch = z.input<typeof doorPatchSchema>;

export interface Problem {
  path: string;
  message: string;
}

/** Every zod issue as a flat {path, message}, for a 400 that lists all problems at once. */
export function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}
