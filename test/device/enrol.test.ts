/** Local enrolment: quality-checked templates, encrypted storage, photos only when allowed. */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Device } from '../../device/daemon.ts';
import { EnrolmentError, enrolPerson } from '../../device/enrol.ts';
import { secondModelPresent } from '../../device/gallery/second-model.ts';
import { Gallery } from '../../device/gallery/gallery.ts';
import { fixture, hasModels, skipReason } from '../helpers.ts';
import { ALL_WEEK, deviceSuite, idleCamera, runDevice, testConfig } from './harness.ts';

const person = (id: string) => ({ id, name: id, active: true, validFrom: null, validUntil: null, groups: [], schedules: ALL_WEEK });

describe.skipIf(skipReason(hasModels, 'models/ missing'))('enrolment', () => {
  const suite = deviceSuite();
  const device = (storeFaceImages: boolean, secondEmbedding: 'auto' | 'off' = 'off'): Promise<Device> => {
    const dir = suite.dir();
    return runDevice(testConfig(dir, { store: { storeFaceImages }, gallery: { secondEmbedding }, ...idleCamera(dir) }), suite.engine());
  };
  const hopper = readFileSync(fixture('grace_hopper.jpg'));

  it('stores templates only, never the photo, by default', async () => {
    const d = await device(false);
    try {
      expect(d.secondEmbedder).toBeUndefined(); // gallery.secondEmbedding is off by default
      expect(await enrolPerson(d, person('gh'), [{ label: 'gh', data: hopper }])).toBe(1);
      expect(d.gallery.has('gh')).toBe(true);
      expect(d.store.templates.list('gh')).toHaveLength(1);
      expect(d.store.faceImages.list('gh')).toEqual([]);
      const rows = d.store.db.prepare('SELECT count(*) AS n FROM face_images').get() as { n: number };
      expect(rows.n).toBe(0);
    } finally {
      await d.stop();
    }
  });

  it('keeps the photo encrypted when storeFaceImages is on, and removes it with the person', async () => {
    const d = await device(true);
    try {
      await enrolPerson(d, person('gh'), [{ label: 'gh', data: hopper }]);
      expect(d.store.faceImages.list('gh')).toEqual([hopper]);
      const raw = d.store.db.prepare('SELECT data FROM face_images').get() as { data: Buffer };
      expect(raw.data.equals(hopper)).toBe(false);
      expect(raw.data.includes(hopper.subarray(0, 64))).toBe(false);
      // A row moved to another person fails authentication.
      d.store.db.prepare("UPDATE face_images SET person_id = 'other'").run();
      expect(() => d.store.faceImages.list('other')).toThrow();
      d.store.db.prepare("UPDATE face_images SET person_id = 'gh'").run();
      expect(d.store.removePerson('gh')).toBe(true);
      expect(d.store.faceImages.list('gh')).toEqual([]);
    } finally {
      await d.stop();
    }
  });

  it.skipIf(!secondModelPresent('models'))('stores the second template beside the main one; an older row without it still loads', async () => {
    const d = await device(false, 'auto');
    try {
      expect(d.secondEmbedder).toBeDefined();
      await enrolPerson(d, person('gh'), [{ label: 'gh', data: hopper }]);
      expect(d.store.templates.list('gh')).toHaveLength(1);
      const [second] = d.store.templates.listSecond('gh');
      expect(second).toHaveLength(192);
      expect(d.gallery.hasSecond('gh')).toBe(true);
      // A template from before the second model (or synced from the gateway): main only.
      d.store.templates.add('old', d.store.templates.list('gh')[0]);
      const g = new Gallery({ kernel: { type: 'js', threads: 1 }, maxTemplates: 16 });
      try {
        expect(d.store.loadGallery(g)).toEqual({ loaded: 2, rejected: 0 });
        expect(g.hasSecond('gh')).toBe(true);
        expect(g.has('old')).toBe(true);
        expect(g.hasSecond('old')).toBe(false);
      } finally {
        await g.close();
      }
    } finally {
      await d.stop();
    }
  });

  it('refuses photos without exactly one good face and stores nothing for that person', async () => {
    const d = await device(true);
    try {
      const blank = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#777' } }).jpeg().toBuffer();
      await expect(enrolPerson(d, person('x'), [{ label: 'good.jpg', data: hopper }, { label: 'blank.jpg', data: blank }])).rejects.toThrow(EnrolmentError);
      await expect(enrolPerson(d, person('x'), [{ label: 'blank.jpg', data: blank }])).rejects.toThrow(/blank.jpg: no face found/);
      const tiny = await sharp(hopper).resize(90, 90).jpeg().toBuffer();
      await expect(enrolPerson(d, person('x'), [{ label: 'tiny.jpg', data: tiny }])).rejects.toThrow(/tiny.jpg: face rejected \(.*too_small/);
      await expect(enrolPerson(d, person('x'), [{ label: 'cut.jpg', data: hopper.subarray(0, 4000) }])).rejects.toThrow(/cut.jpg: cannot decode/);
      expect(d.gallery.has('x')).toBe(false);
      expect(d.store.persons.get('x')).toBeUndefined();
      expect(d.store.faceImages.list('x')).toEqual([]);
    } finally {
      await d.stop();
    }
  });
});
