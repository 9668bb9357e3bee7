/**
 * The MQTT contract between gateway and devices, used by both sides: every topic, who publishes
 * it, its QoS and retain flag, and the schema of its body. The README's topic reference is
 * generated from `topicReference` (scripts/docs.ts), so this file is the single source.
 */
import { z } from 'zod';

export const PREFIX = 'portier/v1';
export const deviceIdPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const GATEWAY = 'gateway';

export const upKinds = ['hello', 'status', 'audit', 'sync', 'response'] as const;
export const downKinds = ['ack', 'changes', 'command', 'notify'] as const;
export type UpKind = (typeof upKinds)[number];
export type DownKind = (typeof downKinds)[number];

export const topics = {
  gatewayAvailability: () => `${PREFIX}/gateway/availability`,
  deviceAvailability: (deviceId: string) => `${PREFIX}/devices/${deviceId}/availability`,
  up: (deviceId: string, kind: UpKind) => `${PREFIX}/devices/${deviceId}/up/${kind}`,
  down: (deviceId: string, kind: DownKind) => `${PREFIX}/devices/${deviceId}/down/${kind}`,
  /** Subscriptions. */
  allUp: () => `${PREFIX}/devices/+/up/+`,
  allAvailability: () => `${PREFIX}/devices/+/availability`,
  deviceDown: (deviceId: string) => `${PREFIX}/devices/${deviceId}/down/+`,
};

export type ParsedTopic =
  | { scope: 'gateway-availability' }
  | { scope: 'device-availability'; deviceId: string }
  | { scope: 'up'; deviceId: string; kind: UpKind }
  | { scope: 'down'; deviceId: string; kind: DownKind };

export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length < 3 || `${parts[0]}/${parts[1]}` !== PREFIX) return null;
  if (parts.length === 4 && parts[2] === 'gateway' && parts[3] === 'availability') return { scope: 'gateway-availability' };
  if (parts[2] !== 'devices' || !deviceIdPattern.test(parts[3] ?? '')) return null;
  const deviceId = parts[3];
  if (parts.length === 5 && parts[4] === 'availability') return { scope: 'device-availability', deviceId };
  if (parts.length !== 6) return null;
  if (parts[4] === 'up' && (upKinds as readonly string[]).includes(parts[5])) return { scope: 'up', deviceId, kind: parts[5] as UpKind };
  if (parts[4] === 'down' && (downKinds as readonly string[]).includes(parts[5])) return { scope: 'down', deviceId, kind: parts[5] as DownKind };
  return null;
}

const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/);
export const sealedBoxSchema = z.strictObject({ epk: b64url, n: b64url, ct: b64url });
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/);
/** The same rules as the device's policy (device/policy/profile.ts): a bad window must not arrive. */
export const scheduleWireSchema = z
  .strictObject({
    door: z.string().min(1),
    days: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])).min(1),
    from: hhmm,
    to: hhmm,
  })
  .refine((s) => s.from !== s.to && s.from !== '24:00', { message: 'empty or ambiguous window' });
const tid = z.string().min(1).max(64);
const eventSchema = z.strictObject({ seq: z.number().int().nonnegative(), id: z.string().min(1).max(64), ts: z.number(), kind: z.string().min(1).max(32), body: z.unknown() });
export type WireEvent = z.output<typeof eventSchema>;

export const personWireSchema = z.strictObject({
  id: z.string().min(1).max(128),
  name: z.string().max(200),
  active: z.boolean(),
  validFrom: z.string().nullable(),
  validUntil: z.string().nullable(),
  groups: z.array(z.string().min(1)),
  schedules: z.array(scheduleWireSchema),
  /** Each template sealed to the receiving device. */
  templates: z.array(sealedBoxSchema),
  /**
   * The second embedding's template of each main one, index by index (null: that photo has none),
   * sealed like them under their own context. Sent only to a device whose `sync` lists the
   * `second-templates` feature; absent: main templates only.
   */
  secondTemplates: z.array(sealedBoxSchema.nullable()).optional(),
});
export type PersonWire = z.output<typeof personWireSchema>;
/** Feature a device lists in `sync` to receive PersonWire.secondTemplates (an older device's strict schema would refuse the key). */
export const SECOND_TEMPLATES_FEATURE = 'second-templates';
export const groupWireSchema = z.strictObject({ id: z.string().min(1), name: z.string(), schedules: z.array(scheduleWireSchema) });

export const bodySchemas = {
  up: {
    hello: z.strictObject({
      signPublicKey: b64url,
      sealPublicKey: b64url,
      /** HMAC-SHA256 with the join secret from the provisioning bundle over the device id and both keys. */
      proof: b64url,
      software: z.string(),
    }),
    status: z.strictObject({
      door: z.strictObject({ id: z.string(), state: z.string(), open: z.boolean().nullable(), alarms: z.array(z.string()) }),
      camera: z.strictObject({ status: z.string(), driver: z.string() }),
      gpio: z.string(),
      gallerySize: z.number().int().nonnegative(),
      outboxDepth: z.number().int().nonnegative(),
      outboxCap: z.number().int().nonnegative(),
      cursor: z.number().int().nullable(),
      versions: z.strictObject({ software: z.string(), models: z.record(z.string(), z.string()) }),
      securityRejections: z.number().int().nonnegative(),
    }),
    audit: z.strictObject({ events: z.array(eventSchema).min(1).max(1000) }),
    sync: z.strictObject({
      tid,
      cursor: z.number().int().nonnegative().nullable(),
      /** Echo of the last page's `snapshot`: continue (or confirm) that snapshot. */
      snapshot: z.string().max(64).optional(),
      /** What this device accepts beyond the base contract: `second-templates` (PersonWire.secondTemplates). */
      features: z.array(z.string().min(1).max(32)).max(16).optional(),
    }),
    response: z.strictObject({
      tid,
      ok: z.boolean(),
      error: z.string().optional(),
      result: z.record(z.string(), z.unknown()).optional(),
    }),
  },
  down: {
    ack: z.strictObject({ upTo: z.number().int().nonnegative(), received: z.number().int().nonnegative(), duplicates: z.number().int().nonnegative() }),
    changes: z.strictObject({
      tid: tid.nullable(),
      /** Cursor the device asked from (null: it had none). */
      from: z.number().int().nullable(),
      /** The device's cursor after applying this page. */
      to: z.number().int().nonnegative(),
      head: z.number().int().nonnegative(),
      /** Snapshot: on this (first) page `keep` lists every person the device may hold; it drops the rest. */
      reset: z.boolean(),
      keep: z.array(z.string()).optional(),
      keepGroups: z.array(z.string()).optional(),
      /** Id of the snapshot this page belongs to; the device echoes it in its next `sync`. */
      snapshot: z.string().max(64).optional(),
      more: z.boolean(),
      people: z.array(personWireSchema),
      deleted: z.array(z.string()),
      groups: z.array(groupWireSchema),
      deletedGroups: z.array(z.string()),
      policy: z.strictObject({ door: z.string().nullable(), name: z.string() }).optional(),
    }),
    command: z.strictObject({
      tid,
      command: z.enum(['unlock', 'resync', 'enrol-here']),
      actor: z.string(),
      args: z.strictObject({
        reason: z.string().optional(),
        personId: z.string().optional(),
        /** Capped: frames are lent to the capture, so no access decision is made meanwhile. */
        timeoutMs: z.number().int().positive().max(120_000).optional(),
      }),
    }),
    notify: z.strictObject({ head: z.number().int().nonnegative() }),
  },
} as const;

export type UpBody<K extends UpKind> = z.output<(typeof bodySchemas.up)[K]>;
export type DownBody<K extends DownKind> = z.output<(typeof bodySchemas.down)[K]>;

/** Message time-to-live per kind: long enough for a slow link, short enough that a captured message cannot be used later. */
export const ttlMs: Record<UpKind | DownKind, number> = {
  hello: 10 * 60_000,
  status: 10 * 60_000,
  audit: 60 * 60_000,
  sync: 5 * 60_000,
  response: 5 * 60_000,
  ack: 5 * 60_000,
  changes: 10 * 60_000,
  command: 30_000,
  notify: 10 * 60_000,
};

export type Availability = 'online' | 'offline';
export const isAvailability = (s: string): s is Availability => s === 'online' || s === 'offline';
