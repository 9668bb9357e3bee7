/**
 * Templates synced from the gateway carry the second embedding's template when the gateway has
 * one (PersonWire.secondTemplates, index by index with the main ones): it is stored in the same
 * row and fused by the gallery. A person without one matches on the main score, and a synced
 * update replaces a local second template rather than pairing it with a different main one.
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
import { applyChanges, ChangesRefused } from '../../../device/sync/apply-changes.ts';
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

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'portier-sync2-'));
  dirs.push(dir);
  const store = await openStore({ dir, templateKey: { type: 'env', env: 'K', file: 'unused' } }, { env: { K: randomBytes(32).toString('hex') } });
  const gallery = new Gallery({ dim: DIM, maxTemplates: 16, kernel: { type: 'js', threads: 1 } });
  const keys = generateKeySet();
  const pub = rawPublicKey(keys.seal.publicKey);
  const wire = (id: string, mains: Float32Array[], seconds?: (Float32Array | null)[]) => ({
    id, name: id, active: true, validFrom: null, validUntil: null, groups: [], schedules: [],
    templates: mains.map((e) => sealEmbedding(pub, 'door-a', id, e)),
    ...(seconds ? { secondTemplates: seconds.map((e) => (e ? sealEmbedding(pub, 'door-a', id, e, 'second') : null)) } : {}),
  });
  const state = { values: {}, update: async () => {} } as unknown as SyncState;
  const apply = (people: ReturnType<typeof wire>[]) =>
    applyChanges(
      { deviceId: 'door-a', store, gallery, state, sealPrivateKey: keys.seal.privateKey },
      { tid: null, from: null, to: 1, head: 1, reset: false, more: false, people, deleted: [], groups: [], deletedGroups: [] },
    );
  return { store, gallery, pub, wire, apply, close: async () => (await gallery.close(), store.close()) };
}

describe('gateway-synced templates and the second embedding', () => {
  it('a synced second template is stored in its row and fused; a person without one keeps the main score', async () => {
    const { store, gallery, wire, apply, close } = await setup();
    try {
      // carol: two photos at the gateway, only the first enrolled with the second model.
      await apply([wire('carol', [axis(4), axis(5)], [axis(7, 192), null]), wire('bob', [axis(2)])]);
      expect(gallery.hasSecond('carol')).toBe(true);
      expect(gallery.hasSecond('bob')).toBe(false);
      expect(gallery.secondCount).toBe(1);
      expect(store.templates.listSecond('carol').map((e) => Array.from(e))).toEqual([Array.from(axis(7, 192))]);
      expect(store.templates.list('carol')).toHaveLength(2);
      // It reloads from the store after a restart.
      const reloaded = new Gallery({ dim: DIM, maxTemplates: 16, kernel: { type: 'js', threads: 1 } });
      try {
        store.templates.loadInto(reloaded);
        expect(reloaded.hasSecond('carol')).toBe(true);
        expect(reloaded.hasSecond('bob')).toBe(false);
      } finally {
        await reloaded.close();
      }

      // Near the threshold the vote fuses carol's second score: a probe agreeing with it lifts her.
      // (carol's two main templates are held as their mean, axis 4 + axis 5.)
      const probe = new Float32Array(DIM);
      probe[4] = probe[5] = 0.5 / Math.SQRT2;
      probe[6] = Math.sqrt(0.75);
      const hit = gallery.search(probe)!;
      expect(hit.personId).toBe('carol');
      expect(hit.score).toBeCloseTo(0.5, 5);
      expect(gallery.needsSecond(hit, 0.5)).toBe(true);
      expect(gallery.fuse(hit, axis(7, 192)).score).toBeCloseTo(0.75, 5);

      // bob has none: main score only.
      const probeB = new Float32Array(DIM);
      probeB[2] = 0.5;
      probeB[3] = Math.sqrt(0.75);
      const hitB = gallery.search(probeB)!;
      expect(hitB.personId).toBe('bob');
      const fusedB = gallery.fuse(hitB, axis(8, 192));
      expect(fusedB.personId).toBe('bob');
      expect(fusedB.score).toBeCloseTo(0.5, 5);
    } finally {
      await close();
    }
  });

  it('a synced update without second templates drops the local one instead of pairing it with another main template', async () => {
    const { store, gallery, wire, apply, close } = await setup();
    try {
      // alice was enrolled at the door with both templates.
      store.templates.add('alice', axis(0), axis(0, 192));
      gallery.setPerson('alice', [axis(0)], [axis(0, 192)]);
      await apply([wire('alice', [axis(1)])]);
      expect(gallery.secondCount).toBe(0);
      expect(store.templates.listSecond('alice')).toEqual([]);
      expect(store.templates.list('alice').map((e) => Array.from(e))).toEqual([Array.from(axis(1))]);
    } finally {
      await close();
    }
  });

  it('refuses the page when a second template does not open or does not line up with the main ones', async () => {
    const { store, gallery, pub, wire, apply, close } = await setup();
    try {
      // A main-template box presented as a second one (wrong context) does not open.
      const swapped = { ...wire('dan', [axis(1)]), secondTemplates: [sealEmbedding(pub, 'door-a', 'dan', axis(3, 192))] };
      await expect(apply([swapped])).rejects.toThrow(ChangesRefused);
      const short = wire('dan', [axis(1), axis(2)], [axis(3, 192)]);
      await expect(apply([short])).rejects.toThrow(/1 second templates for 2 templates/);
      expect(gallery.has('dan')).toBe(false);
      expect(store.templates.list('dan')).toEqual([]);
    } finally {
      await close();
    }
  });
});
