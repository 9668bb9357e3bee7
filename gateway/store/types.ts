/**
 * The gateway's repository interface. Narrow on purpose: HTTP, sync and CLI talk only to this,
 * so a PostgreSQL backend can replace SQLite later. Timestamps are milliseconds since the epoch.
 * Every mutation of people, templates and groups writes the register log itself (callers cannot
 * forget); `register.touch` is public for the sync layer's own 'policy' entries.
 */
import type { GatewayStoreConfig } from './config.ts';
import type { GroupCreate, GroupPatch, PersonCreate, PersonPatch, Problem, Schedule } from './schemas.ts';

export type { Schedule, Problem, PersonCreate, PersonPatch, GroupCreate, GroupPatch };

export type StoreErrorCode = 'not_found' | 'conflict' | 'invalid';

/** A refusal the caller can show as is: HTTP maps not_found to 404, conflict to 409, invalid to 400. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    // The problems go into the message too, so a CLI or log line shows what is wrong.
    super(problems.length && !problems.every((p) => message.includes(p.message)) ? `${message}: ${problems.map((p) => (p.path ? `${p.path}: ` : '') + p.message).join('; ')}` : message);
    this.name = 'StoreError';
  }
}

export interface Person {
  id: string;
  name: string;
  employeeNo: string | null;
  active: boolean;
  validFrom: string | null;
  validUntil: string | null;
  groups: string[];
  schedules: Schedule[];
  createdAt: number;
  updatedAt: number;
}

export interface PeopleFilter {
  /** Case-insensitive substring of name or employee number. */
  q?: string;
  group?: string;
  active?: boolean;
  /** Validity ends before this instant (ms); includes people already expired. */
  expiringBefore?: number;
  limit?: number;
  offset?: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface PeopleRepo {
  get(id: string): Person | undefined;
  list(filter?: PeopleFilter): Page<Person>;
  /** Every person, paged internally (safe to call other store methods while iterating). */
  all(): IterableIterator<Person>;
  create(input: PersonCreate): Person;
  update(id: string, patch: PersonPatch): Person;
  /** Deletes the person, their templates and photos, and writes a register tombstone. */
  remove(id: string): boolean;
}

export interface TemplateMeta {
  id: string;
  personId: string;
  /** 'upload' (HTTP enrolment), 'enrol-here' (captured at a door), or another producer's name. */
  source: string;
  /** Detector confidence of the enrolled face (0..1), when known. */
  quality: number | null;
  createdAt: number;
}

export interface TemplateRecord extends TemplateMeta {
  embedding: Float32Array;
  /** The second embedding's template of the same face (null: none, or it failed authentication). */
  second: Float32Array | null;
}

export interface TemplatesRepo {
  /** `second`: the second embedding of the same face, stored in the same row. */
  add(personId: string, embedding: Float32Array, opts: { source: string; quality?: number | null; second?: Float32Array | null }): TemplateMeta;
  get(id: string): TemplateMeta | undefined;
  /** Decrypted templates of one person, oldest first; a row failing authentication is logged and left out. */
  list(personId: string): TemplateRecord[];
  /** Metadata only (nothing decrypted). */
  meta(personId: string): TemplateMeta[];
  /** Every decrypted template, paged internally; rows failing authentication are logged and left out. */
  all(): IterableIterator<TemplateRecord>;
  /** Template count per person for the given ids (absent = 0). */
  counts(personIds: string[]): Record<string, number>;
  total(): number;
  remove(templateId: string): boolean;
  removePerson(personId: string): number;
}

export interface PhotoRecord {
  id: string;
  personId: string;
  templateId: string | null;
  contentType: string | null;
  data: Buffer;
  createdAt: number;
}

export interface PhotosRepo {
  /** Writes only when keepPhotos is on; otherwise stores nothing and returns null. */
  add(personId: string, data: Uint8Array, opts?: { templateId?: string | null; contentType?: string | null }): { id: string } | null;
  /** Decrypted photos; throws when a row fails authentication (wrong key, tampered, moved to another person). */
  list(personId: string): PhotoRecord[];
  count(personId: string): number;
  removePerson(personId: string): number;
}

export interface Group {
  id: string;
  name: string;
  schedules: Schedule[];
  createdAt: number;
  updatedAt: number;
}

export interface GroupsRepo {
  get(id: string): Group | undefined;
  list(): Group[];
  create(input: GroupCreate): Group;
  /** Touches the group and every member in the register log. */
  update(id: string, patch: GroupPatch): Group;
  /** Removes the group from its members (touching them) and writes a tombstone. */
  remove(id: string): boolean;
  members(id: string): string[];
}

export interface Door {
  id: string;
  name: string;
  createdAt: number;
}

export interface DoorsRepo {
  get(id: string): Door | undefined;
  list(): Door[];
  create(input: { id: string; name?: string }): Door;
  update(id: string, patch: { name: string }): Door;
  /** Refused (conflict) while a device or a schedule names the door. */
  remove(id: string): boolean;
}

export interface DeviceRecord {
  id: string;
  name: string;
  doorId: string | null;
  brokerPasswordHash: string | null;
  joinSecretHash: string | null;
  signPublicKey: string | null;
  sealPublicKey: string | null;
  /** Last sequence number used on a message down; the next is downSeq + 1. */
  downSeq: number;
  /** Register cursor the device last reported. */
  cursor: number | null;
  lastSeen: number | null;
  /** Last status message (door, camera, gallerySize, outboxDepth, versions, ...), as received. */
  status: Record<string, unknown> | null;
  online: boolean;
  /** Next sync sends a full snapshot (set when the device's door changes). */
  snapshotRequired: boolean;
  createdAt: number;
}

export type DeviceCreate = Pick<DeviceRecord, 'id'> &
  Partial<Pick<DeviceRecord, 'name' | 'doorId' | 'brokerPasswordHash' | 'joinSecretHash' | 'signPublicKey' | 'sealPublicKey'>>;
export type DevicePatch = Partial<Omit<DeviceRecord, 'id' | 'downSeq' | 'createdAt'>>;

export interface DevicesRepo {
  get(id: string): DeviceRecord | undefined;
  list(): DeviceRecord[];
  create(rec: DeviceCreate): DeviceRecord;
  /** A changed doorId also sets snapshotRequired (the need-to-know set changes). */
  update(id: string, patch: DevicePatch): DeviceRecord;
  remove(id: string): boolean;
  /** Atomic increment-and-return, committed (synchronous=FULL) before it returns. */
  nextDownSeq(id: string): number;
  setKeys(id: string, signPublicKey: string, sealPublicKey: string): DeviceRecord;
}

export type RegisterKind = 'person' | 'group' | 'policy';

export interface RegisterChange {
  kind: RegisterKind;
  entityId: string;
  seq: number;
  deleted: boolean;
  changedAt: number;
}

export interface RegisterLog {
  /** Records a change (or a deletion) and returns its new seq. Call inside the change's transaction. */
  touch(kind: RegisterKind, entityId: string, deleted?: boolean): number;
  /** Highest seq ever handed out (0 when empty). */
  head(): number;
  /** Entities whose last change is after `cursor`, in seq order. */
  changesAfter(cursor: number, limit: number): RegisterChange[];
  /** Highest seq of a purged tombstone: a cursor below it must get a snapshot. */
  purgedUpTo(): number;
  /** Drops tombstones older than `olderThanMs` (default: tombstoneRetentionDays). */
  purgeTombstones(olderThanMs?: number): { purged: number; purgedUpTo: number };
}

export interface DeviceEventInput {
  id: string;
  seq?: number;
  ts: number;
  kind: string;
  body: unknown;
}

export interface AuditEntry {
  id: number;
  /** Sending device; for admin actions the device acted on, if any. */
  deviceId: string | null;
  eventId: string;
  seq: number | null;
  ts: number;
  kind: string;
  decision: 'granted' | 'denied' | null;
  reason: string | null;
  personId: string | null;
  door: string | null;
  /** Admin user for admin actions. */
  actor: string | null;
  target: string | null;
  body: unknown;
  receivedAt: number;
}

export interface AuditFilter {
  personId?: string;
  door?: string;
  deviceId?: string;
  kind?: string;
  decision?: 'granted' | 'denied';
  reason?: string;
  actor?: string;
  /** Inclusive lower bound of ts (ms). */
  from?: number;
  /** Exclusive upper bound of ts (ms). */
  to?: number;
}

export interface AuditQuery extends AuditFilter {
  limit?: number;
  /** Opaque cursor from a previous page's nextCursor (preferred over offset). */
  cursor?: string;
  offset?: number;
}

export interface AdminAction {
  actor: string;
  /** e.g. 'person.create', 'device.unlock'. Stored as kind 'admin' with this as the reason. */
  action: string;
  target?: string | null;
  details?: unknown;
  /** Set so the action shows up when searching the audit log by that device, person or door. */
  deviceId?: string | null;
  personId?: string | null;
  door?: string | null;
}

export interface AuditLog {
  /** One transaction; each event stored once per (device, event id). Malformed events are counted in `rejected`. */
  ingest(deviceId: string, events: DeviceEventInput[]): { inserted: number; duplicates: number; rejected: number };
  record(action: AdminAction): AuditEntry;
  /** Newest first (ts, then arrival). */
  search(q?: AuditQuery): { items: AuditEntry[]; nextCursor: string | null };
  count(f?: AuditFilter): number;
  /** Entries stored after `afterId`, oldest first (ids grow with arrival): what a live view has not seen yet. */
  since(afterId: number, limit: number): AuditEntry[];
  /** Id of the newest stored entry (0 when the log is empty): where a live view starts. */
  lastId(): number;
}

export interface GatewayStore {
  readonly config: GatewayStoreConfig;
  readonly people: PeopleRepo;
  readonly templates: TemplatesRepo;
  readonly photos: PhotosRepo;
  readonly groups: GroupsRepo;
  readonly doors: DoorsRepo;
  readonly devices: DevicesRepo;
  readonly register: RegisterLog;
  readonly audit: AuditLog;
  /** Runs fn in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T;
  close(): void;
}
