/**
 * Templates synced from the gateway carry the main embedding only (the wire has no second
 * template): such people match on the main score, and a synced update replaces a local second
 * template rather than pairing it with a different main one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeySet, rawPublicKey } from '../../../core/sync/keys.ts';
import { sealEmbedding } from '../../../core/sync/seal.ts';
import { Gallery } from '../../../device/gallery/gallery.ts';
import { openStore } from '../../../device/store/store.ts';
import { applyChanges } from '../../../device/sync/apply-changes.ts';
import type { SyncState } from '../../../device/sync/state.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const DIM = 64;
const axis = (i: number, n = DIM) => {
  const v = new Float32Array(n);
  v[i] = 1;
  return v;
};

describe('gateway-synced templates and the second embedding', () => {
  it('a synced person has no second template and keeps the main score; a synced update drops the local one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portier-sync2-'));
    dirs.push(dir);
    const store = await openStore({ dir, templateKey: { type: 'env', env: 'K', file: 'unused' } }, { env: { K: randomBytes(32).toString('hex') } });
    const gallery = new Gallery({ dim: DIM, maxTemplates: 16, kernel: { type: 'js', threads: 1 } });
    try {
      // alice was enrolled at the door with both templates.
      store.templates.add('alice', axis(0), axis(0, 192));
      gallery.setPerson('alice', [axis(0)], [axis(0, 192)]);
      const keys = generateKeySet();
      const wire = (id: string, e: Float32Array) => ({
        id, name: id, active: true, validFrom: null, validUntil: null, groups: [], schedules: [],
        templates: [sealEmbedding(rawPublicKey(keys.seal.publicKey), 'door-a', id, e)],
      });
      const state = { values: {}, update: async () => {} } as unknown as SyncState;
      await applyChanges(
        { deviceId: 'door-a', store, gallery, state, sealPrivateKey: keys.seal.privateKey },
        { tid: null, from: null, to: 1, head: 1, reset: false, more: false, people: [wire('alice', axis(1)), wire('bob', axis(2))], deleted: [], groups: [], deletedGroups: [] },
      );
      expect(gallery.secondCount).toBe(0);
      expect(store.templates.listSecond('alice')).toEqual([]);
      const probe = new Float32Array(DIM);
      probe[2] = 0.5;
      probe[3] = Math.sqrt(0.75);
      const hit = gallery.search(probe)!;
      expect(hit.personId).toBe('bob');
      expect(hit.score).toBeCloseTo(0.5, 5);
      expect(gallery.needsSecond(hit, 0.5)).toBe(false);
      expect(gallery.fuse(hit, axis(0, 192)).score).toBeCloseTo(0.5, 5);
    } finally {
      await gallery.close();
      store.close();
    }
  });
});
