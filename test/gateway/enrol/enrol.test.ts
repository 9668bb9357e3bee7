/** Gateway enrolment with the real vision engine: per-photo feedback, duplicates, photos kept only when on. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VisionEngine } from '../../../core/vision/engine.ts';
import { defaultVisionConfig } from '../../../core/vision/config.ts';
import { openSecondEmbedder, secondModelPresent } from '../../../device/gallery/second-model.ts';
import { createEnrolment } from '../../../gateway/enrol/enrol.ts';
import { fixture, hasModels, makeEngine, repoRoot, skipReason } from '../../helpers.ts';
import { storeSuite } from '../store/helpers.ts';
import { twoFaces } from './photos.ts';

describe.skipIf(skipReason(hasModels, 'models/ missing'))('gateway enrolment', () => {
  const suite = storeSuite();
  let engine: VisionEngine;
  const hopper = readFileSync(fixture('grace_hopper.jpg'));
  const collins = readFileSync(fixture('astronaut_eileen_collins.png'));
  beforeAll(async () => {
    engine = await makeEngine();
  });
  afterAll(async () => engine?.close());

  it('stores one template per good photo and explains every refused one', async () => {
    const store = suite.open(suite.dir());
    const metrics: string[] = [];
    const enrol = createEnrolment({ store, engine, metrics: { recordEnrolment: (r) => metrics.push(r) } });
    let changes = 0;
    enrol.onChange(() => changes++);
    const p = store.people.create({ name: 'Grace Hopper' });
    const blank = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#777' } }).jpeg().toBuffer();
    const tiny = await sharp(hopper).resize(90, 90).jpeg().toBuffer();
    const res = await enrol.enrolPhotos(p.id, [
      { name: 'hopper.jpg', data: hopper },
      { name: 'blank.jpg', data: blank },
      { name: 'tiny.jpg', data: tiny },
      { name: 'notes.txt', data: Buffer.from('this is not a picture at all') },
      { name: 'group.jpg', data: await twoFaces() },
    ]);
    expect(res.map((r) => [r.name, r.accepted, r.faces, r.quality.reasons])).toEqual([
      ['hopper.jpg', true, 1, []],
      ['blank.jpg', false, 0, ['no_face']],
      ['tiny.jpg', false, 1, expect.arrayContaining(['too_small'])],
      ['notes.txt', false, 0, ['not_an_image']],
      ['group.jpg', false, 2, expect.arrayContaining(['multiple_faces'])],
    ]);
    expect(res[0].box).toHaveLength(4);
    expect(res[0].templateId).toBe(store.templates.meta(p.id)[0].id);
    expect(store.templates.meta(p.id)).toEqual([expect.objectContaining({ source: 'upload', quality: expect.any(Number) })]);
    expect(store.photos.count(p.id)).toBe(0);
    expect(changes).toBe(1);
    expect(metrics).toEqual(['enrolled', 'rejected', 'rejected', 'rejected', 'rejected']);
  });

  it('refuses a face already enrolled under another person, naming them; force stores it; the same person may add more', async () => {
    const store = suite.open(suite.dir());
    const enrol = createEnrolment({ store, engine });
    const grace = store.people.create({ name: 'Grace Hopper' });
    const eileen = store.people.create({ name: 'Eileen Collins' });
    const impostor = store.people.create({ name: 'Someone Else' });
    expect((await enrol.enrolPhotos(grace.id, [{ name: 'g', data: hopper }]))[0].accepted).toBe(true);
    // A different face is not a duplicate.
    const e = (await enrol.enrolPhotos(eileen.id, [{ name: 'e', data: collins }]))[0];
    expect(e).toMatchObject({ accepted: true, duplicateOf: null });
    // Grace's face again, under another person: refused, and the warning names Grace.
    const again = (await enrol.enrolPhotos(impostor.id, [{ name: 'g2', data: hopper }]))[0];
    expect(again).toMatchObject({ accepted: false, refusal: 'duplicate', duplicateOf: { personId: grace.id, name: 'Grace Hopper' } });
    expect(again.duplicateOf!.score).toBeGreaterThan(0.9);
    expect(store.templates.meta(impostor.id)).toEqual([]);
    // A second photo of Grace for Grace is fine.
    const more = (await enrol.enrolPhotos(grace.id, [{ name: 'g3', data: await sharp(hopper).flop().jpeg().toBuffer() }]))[0];
    expect(more).toMatchObject({ accepted: true, duplicateOf: null });
    // force: stored, still with the warning.
    const forced = (await enrol.enrolPhotos(impostor.id, [{ name: 'g2', data: hopper }], { force: true }))[0];
    expect(forced).toMatchObject({ accepted: true, duplicateOf: { personId: grace.id } });
    // Deleting Grace through the enrolment clears her from the index: no more warning about her.
    expect(enrol.removePerson(grace.id)).toBe(true);
    expect(enrol.removeTemplate(forced.templateId!)).toBe(true);
    const after = (await enrol.enrolPhotos(impostor.id, [{ name: 'g4', data: hopper }]))[0];
    expect(after).toMatchObject({ accepted: true, duplicateOf: null });
  });

  it('addTemplate (enrol-here) runs the same duplicate check, and a new enrolment sees templates stored before it started', async () => {
    const dir = suite.dir();
    const store = suite.open(dir);
    const grace = store.people.create({ name: 'Grace Hopper' });
    const other = store.people.create({ name: 'Other' });
    const first = createEnrolment({ store, engine });
    const { embedding } = await first.analyzePhoto(hopper, 'h');
    expect(first.addTemplate(grace.id, embedding!, 'enrol-here')).toMatchObject({ accepted: true, template: { source: 'enrol-here' } });
    // A fresh enrolment (gateway restart) loads the index from the store.
    const second = createEnrolment({ store, engine });
    expect(second.size).toBe(1);
    expect(second.addTemplate(other.id, embedding!, 'enrol-here')).toMatchObject({ accepted: false, refusal: 'duplicate', duplicateOf: { name: 'Grace Hopper' } });
    // A person deleted behind the enrolment's back (another module) does not leave a stale warning.
    store.people.remove(grace.id);
    expect(second.addTemplate(other.id, embedding!, 'enrol-here')).toMatchObject({ accepted: true, duplicateOf: null });
    expect(() => second.addTemplate('ghost', embedding!, 'enrol-here')).toThrow(/does not exist/);
    const limited = createEnrolment({ store, engine, config: { maxTemplatesPerPerson: 1 } });
    expect(limited.addTemplate(other.id, embedding!, 'enrol-here')).toMatchObject({ accepted: false, refusal: 'limit' });
  });

  it('keeps the photo, encrypted, only when keepPhotos is on', async () => {
    const store = suite.open(suite.dir(), { keepPhotos: true });
    const enrol = createEnrolment({ store, engine });
    const p = store.people.create({ name: 'Eileen' });
    const [r] = await enrol.enrolPhotos(p.id, [{ name: 'e.png', data: collins }]);
    expect(r.accepted).toBe(true);
    const photos = store.photos.list(p.id);
    expect(photos).toHaveLength(1);
    expect(photos[0]).toMatchObject({ templateId: r.templateId, contentType: 'image/png' });
    expect(photos[0].data.equals(collins)).toBe(true);
  });

  it.skipIf(!secondModelPresent(join(repoRoot, 'models')))('stores the second embedding of the same aligned crop beside each accepted template, as the device does', async () => {
    const vision = { ...defaultVisionConfig(), modelDir: join(repoRoot, 'models') };
    const second = (await openSecondEmbedder({ secondEmbedding: 'auto' }, vision))!;
    try {
      const store = suite.open(suite.dir());
      const enrol = createEnrolment({ store, engine, secondEmbedder: second });
      const p = store.people.create({ name: 'Grace Hopper' });
      const res = await enrol.enrolPhotos(p.id, [
        { name: 'hopper.jpg', data: hopper },
        { name: 'notes.txt', data: Buffer.from('not a picture') },
      ]);
      expect(res.map((r) => r.accepted)).toEqual([true, false]);
      const [t] = store.templates.list(p.id);
      expect(t.second).toHaveLength(192);
      // What device enrolment computes from the same photo (device/enrol.ts enrolmentTemplate).
      const a = await engine.analyzeImage(hopper, { embed: 'passing', liveness: false, keepAligned: true });
      const expected = await second.embed(a.faces[a.primary >= 0 ? a.primary : 0].aligned!);
      expect(Array.from(t.second!)).toEqual(Array.from(expected));
      // Without the second model: main templates only, as before.
      const plain = createEnrolment({ store, engine });
      const q = store.people.create({ name: 'Eileen Collins' });
      expect((await plain.enrolPhotos(q.id, [{ name: 'e.png', data: collins }]))[0].accepted).toBe(true);
      expect(store.templates.list(q.id)[0].second).toBeNull();
    } finally {
      await second.release();
    }
  });
});
