/** JSON views of store records: ISO times, no secrets (credential hashes stay in the store). */
import type { AuditEntry, DeviceRecord, Group, GatewayStore, Person, TemplateMeta } from '../store/types.ts';

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function personView(p: Person, templates: number) {
  return {
    id: p.id,
    name: p.name,
    employeeNo: p.employeeNo,
    active: p.active,
    validFrom: p.validFrom,
    validUntil: p.validUntil,
    groups: p.groups,
    schedules: p.schedules,
    templates,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export const templateView = (t: TemplateMeta) => ({ id: t.id, source: t.source, quality: t.quality, createdAt: iso(t.createdAt) });

export const groupView = (g: Group, members: number) => ({ id: g.id, name: g.name, schedules: g.schedules, members, createdAt: iso(g.createdAt), updatedAt: iso(g.updatedAt) });

const pick = (o: Record<string, unknown> | null, k: string): unknown => (o && k in o ? o[k] : null);

/** Device state for the admin: what the last status message said, plus sync position. */
export function deviceView(d: DeviceRecord, registerHead: number) {
  const st = d.status;
  return {
    id: d.id,
    name: d.name,
    doorId: d.doorId,
    online: d.online,
    lastSeen: iso(d.lastSeen),
    joined: d.signPublicKey !== null && d.sealPublicKey !== null,
    versions: pick(st, 'versions'),
    gallerySize: pick(st, 'gallerySize'),
    outboxDepth: pick(st, 'outboxDepth'),
    door: pick(st, 'door'),
    camera: pick(st, 'camera'),
    status: st,
    sync: { cursor: d.cursor, behind: d.cursor === null ? null : Math.max(0, registerHead - d.cursor), snapshotRequired: d.snapshotRequired },
    createdAt: iso(d.createdAt),
  };
}

export function auditView(e: AuditEntry, names: Map<string, string>) {
  return {
    id: e.id,
    time: iso(e.ts),
    ts: e.ts,
    deviceId: e.deviceId,
    eventId: e.eventId,
    kind: e.kind,
    decision: e.decision,
    reason: e.reason,
    personId: e.personId,
    personName: e.personId ? (names.get(e.personId) ?? null) : null,
    door: e.door,
    actor: e.actor,
    target: e.target,
    body: e.body,
    receivedAt: iso(e.receivedAt),
  };
}

/** Names of the people appearing in a page of audit entries (one lookup each, a page is small). */
export function personNames(store: GatewayStore, entries: AuditEntry[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const e of entries) {
    if (!e.personId || names.has(e.personId)) continue;
    const p = store.people.get(e.personId);
    if (p) names.set(e.personId, p.name);
  }
  return names;
}
