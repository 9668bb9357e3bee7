/**
 * One `changes` page for one device: the register entities changed after its cursor, each as
 * its current state seen from that device (need to know), templates sealed to the device's
 * X25519 key (with their second-embedding templates for a device that takes them). A device
 * without a cursor, with one older than the purged tombstones, or whose door changed gets a
 * snapshot: `reset` with the full list of ids to keep, then the same pages.
 */
import type { DownBody, PersonWire } from '../../core/sync/contract.ts';
import { sealEmbedding } from '../../core/sync/seal.ts';
import type { DeviceRecord, GatewayStore, Group } from '../store/types.ts';
import { visibleAtDoor } from './visibility.ts';

/** About 2.8 MB of sealed templates: under the default 4 MiB broker packet limit with room for the rest. */
export const MAX_TEMPLATES_PER_PAGE = 1000;

export interface ChangesOptions {
  pageSize: number;
  tid: string | null;
  now: number;
  /** The device is inside a snapshot (it echoed the id and sits at its last page): no new reset. */
  continuing?: boolean;
  /** The device listed the `second-templates` feature: send PersonWire.secondTemplates (its strict schema takes them). */
  secondTemplates?: boolean;
}

export function buildChanges(store: GatewayStore, device: DeviceRecord, cursor: number | null, o: ChangesOptions): DownBody<'changes'> {
  if (!device.sealPublicKey) throw new Error(`device ${device.id} has not joined (no sealing key)`);
  const sealKey = device.sealPublicKey;
  const groupCache = new Map<string, Group | undefined>();
  const group = (id: string) => {
    if (!groupCache.has(id)) groupCache.set(id, store.groups.get(id));
    return groupCache.get(id);
  };
  const reset = !(o.continuing && cursor !== null) && (cursor === null || cursor < store.register.purgedUpTo() || device.snapshotRequired);
  const from = reset || cursor === null ? 0 : cursor;
  const head = store.register.head();
  const body: DownBody<'changes'> = { tid: o.tid, from: cursor, to: from, head, reset, more: false, people: [], deleted: [], groups: [], deletedGroups: [] };
  if (reset) {
    body.keep = [];
    for (const p of store.people.all()) if (visibleAtDoor(p, group, device.doorId, o.now)) body.keep.push(p.id);
    body.keepGroups = store.groups.list().map((g) => g.id);
    body.policy = { door: device.doorId, name: device.name };
  }
  // Entities are counted against the page size; group and policy rows are small. Templates are
  // counted too (about 2.8 KB sealed each), so a page stays far below the broker's packet limit
  // however many templates people have.
  const entries = store.register.changesAfter(from, o.pageSize);
  let sealed = 0;
  let cut = false;
  for (const e of entries) {
    if (e.kind === 'person') {
      const p = e.deleted ? undefined : store.people.get(e.entityId);
      if (!p || !visibleAtDoor(p, group, device.doorId, o.now)) {
        body.to = e.seq;
        // A snapshot's keep list already removes them; naming them would tell every door who exists.
        if (!reset) body.deleted.push(e.entityId);
        continue;
      }
      const list = store.templates.list(p.id);
      const withSecond = o.secondTemplates ? list.filter((t) => t.second).length : 0;
      // A sealed 192-d second template is under half the size of a main one.
      const weight = list.length + withSecond / 2;
      if (body.people.length > 0 && sealed + weight > MAX_TEMPLATES_PER_PAGE) {
        cut = true;
        break;
      }
      sealed += weight;
      body.to = e.seq;
      const templates = list.map((t) => sealEmbedding(sealKey, device.id, p.id, t.embedding));
      const person: PersonWire = { id: p.id, name: p.name, active: p.active, validFrom: p.validFrom, validUntil: p.validUntil, groups: p.groups, schedules: p.schedules, templates };
      // Index by index with `templates`; left out when no template has one (the page stays as before).
      if (withSecond > 0) person.secondTemplates = list.map((t) => (t.second ? sealEmbedding(sealKey, device.id, p.id, t.second, 'second') : null));
      body.people.push(person);
      continue;
    }
    body.to = e.seq;
    if (e.kind === 'group') {
      const g = e.deleted ? undefined : group(e.entityId);
      if (g) body.groups.push({ id: g.id, name: g.name, schedules: g.schedules });
      else body.deletedGroups.push(e.entityId);
    } else if (e.kind === 'policy' && e.entityId === device.id) {
      body.policy = { door: device.doorId, name: device.name };
    }
  }
  body.more = cut || entries.length === o.pageSize;
  if (!body.more) body.to = Math.max(body.to, head);
  return body;
}
