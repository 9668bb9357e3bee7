/**
 * Apply one page of the register change log. Every sealed template (and second-embedding
 * template, when the gateway sent them) is opened first; if one does
 * not open (sealed to another device or person, tampered) the whole page is refused and nothing
 * changes. Then: persons and templates in one SQLite transaction, the in-memory gallery, and
 * last the groups, policy and cursor in one settings write. A crash in between only makes the
 * next sync repeat the page, which is idempotent.
 */
import type { KeyObject } from 'node:crypto';
import { createLogger } from '../../core/log/logger.ts';
import type { DownBody } from '../../core/sync/contract.ts';
import { openEmbedding } from '../../core/sync/seal.ts';
import type { DeviceStore } from '../store/store.ts';
import type { SyncState } from './state.ts';

const log = createLogger('sync');

/** What sync needs of the gallery (device/gallery/gallery.ts). */
export interface SyncGallery {
  readonly dim: number;
  readonly personCount: number;
  setPerson(personId: string, embeddings: ArrayLike<number>[], second?: ArrayLike<number>[]): void;
  removePerson(personId: string): boolean;
  has(personId: string): boolean;
}

export class ChangesRefused extends Error {
  override name = 'ChangesRefused';
}

export interface ApplyDeps {
  deviceId: string;
  store: Pick<DeviceStore, 'db' | 'persons' | 'templates' | 'removePerson'>;
  gallery: SyncGallery;
  state: SyncState;
  sealPrivateKey: KeyObject;
}

export interface ApplySummary {
  to: number;
  upserted: string[];
  removed: string[];
  templates: number;
  groups: number;
}

type Changes = DownBody<'changes'>;

/** One synced template: the main embedding and, when the gateway had one, the second model's of the same face. */
export interface SyncedTemplate {
  main: Float32Array;
  second: Float32Array | null;
}

/** Open every template (and second template) of the page or throw ChangesRefused. */
export function openTemplates(d: Pick<ApplyDeps, 'deviceId' | 'gallery' | 'sealPrivateKey'>, body: Changes): Map<string, SyncedTemplate[]> {
  const out = new Map<string, SyncedTemplate[]>();
  for (const p of body.people) {
    const seconds = p.secondTemplates;
    if (seconds && seconds.length !== p.templates.length) throw new ChangesRefused(`person ${p.id} has ${seconds.length} second templates for ${p.templates.length} templates`);
    let secondDim: number | undefined;
    const embs = p.templates.map((box, i): SyncedTemplate => {
      let main: Float32Array;
      let second: Float32Array | null = null;
      const secondBox = seconds?.[i];
      try {
        main = openEmbedding(d.sealPrivateKey, d.deviceId, p.id, box);
        if (secondBox) second = openEmbedding(d.sealPrivateKey, d.deviceId, p.id, secondBox, 'second');
      } catch (err) {
        throw new ChangesRefused(`template ${i} of person ${p.id}: ${(err as Error).message}`);
      }
      if (main.length !== d.gallery.dim) throw new ChangesRefused(`template ${i} of person ${p.id} has ${main.length} values, the gallery expects ${d.gallery.dim}`);
      if (second) {
        secondDim ??= second.length;
        if (second.length !== secondDim) throw new ChangesRefused(`second template ${i} of person ${p.id} has ${second.length} values, the others ${secondDim}`);
      }
      return { main, second };
    });
    out.set(p.id, embs);
  }
  return out;
}

export async function applyChanges(d: ApplyDeps, body: Changes): Promise<ApplySummary> {
  const embeddings = openTemplates(d, body);
  const { store, gallery, state } = d;
  const incoming = new Set(body.people.map((p) => p.id));

  // A snapshot's first page lists everyone the device may hold: whoever is not in `keep` may no longer open this door.
  const removed = new Set(body.deleted.filter((id) => !incoming.has(id)));
  if (body.reset && body.keep) {
    const keep = new Set(body.keep);
    for (const p of store.persons.list()) if (!keep.has(p.id) && !incoming.has(p.id)) removed.add(p.id);
  }

  let templates = 0;
  store.db.transaction(() => {
    for (const id of removed) store.removePerson(id);
    for (const p of body.people) {
      store.persons.upsert({ id: p.id, name: p.name, active: p.active, validFrom: p.validFrom, validUntil: p.validUntil, groups: p.groups, schedules: p.schedules });
      store.templates.removePerson(p.id);
      for (const t of embeddings.get(p.id)!) {
        store.templates.add(p.id, t.main, t.second ?? undefined);
        templates++;
      }
    }
  })();

  for (const id of removed) gallery.removePerson(id);
  for (const p of body.people) {
    const embs = embeddings.get(p.id)!;
    try {
      // No second template (an older gateway, or photos enrolled without the model): the person matches on the main score.
      if (embs.length) gallery.setPerson(p.id, embs.map((t) => t.main), embs.flatMap((t) => (t.second ? [t.second] : [])));
      else gallery.removePerson(p.id);
    } catch (err) {
      // Stored, but not searchable until there is room (gallery.maxTemplates); say so loudly.
      log.error('synced person could not be loaded into the gallery', { personId: p.id, error: (err as Error).message });
    }
  }

  const groups: Record<string, { schedules: unknown }> = { ...((state.values.groups ?? {}) as Record<string, { schedules: unknown }>) };
  if (body.reset && body.keepGroups) {
    const keep = new Set([...body.keepGroups, ...body.groups.map((g) => g.id)]);
    for (const id of Object.keys(groups)) if (!keep.has(id)) delete groups[id];
  }
  for (const id of body.deletedGroups) delete groups[id];
  // The daemon reads { [id]: { schedules } } (policy/profile.ts accessGroupSchema is strict: no name).
  for (const g of body.groups) groups[g.id] = { schedules: g.schedules };
  const values: Record<string, unknown> = { groups };
  if (body.policy) values.policy = body.policy;
  await state.update({ cursor: body.to }, values);

  return { to: body.to, upserted: [...incoming], removed: [...removed], templates, groups: body.groups.length };
}
