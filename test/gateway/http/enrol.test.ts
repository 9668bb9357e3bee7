/** Enrolment over HTTP with the real vision engine: multipart and base64 uploads, per-photo feedback, duplicates. */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VisionEngine } from '../../../core/vision/engine.ts';
import { fixture, hasModels, makeEngine, skipReason } from '../../helpers.ts';
import { twoFaces } from '../enrol/photos.ts';
import { apiSuite } from './harness.ts';

describe.skipIf(skipReason(hasModels, 'models/ missing'))('gateway API: enrolment from photos', () => {
  const start = apiSuite();
  let engine: VisionEngine;
  const hopper = readFileSync(fixture('grace_hopper.jpg'));
  const collins = readFileSync(fixture('astronaut_eileen_collins.png'));
  beforeAll(async () => {
    engine = await makeEngine();
  });
  afterAll(async () => engine?.close());

  const person = async (api: Awaited<ReturnType<typeof start>>, name: string) => (await (await api.call('admin', '/api/people', { method: 'POST', json: { name } })).json()).id as string;

  it('takes multipart uploads, gives feedback per photo, stores only the good ones, and tells devices', async () => {
    const api = await start({ engine });
    const id = await person(api, 'Grace Hopper');
    const changes = api.registerChanges();
    const fd = new FormData();
    fd.append('photos', new Blob([hopper], { type: 'image/jpeg' }), 'hopper.jpg');
    fd.append('photos', new Blob([new Uint8Array(await twoFaces())], { type: 'image/jpeg' }), 'group photo.jpg');
    fd.append('photos', new Blob([Buffer.from('GIF89a not really')], { type: 'image/gif' }), 'broken.gif');
    const r = await api.call('admin', `/api/people/${id}/photos`, { method: 'POST', body: fd });
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body).toMatchObject({ personId: id, accepted: 1, rejected: 2, templates: 1 });
    expect(body.photos).toEqual([
      expect.objectContaining({ name: 'hopper.jpg', faces: 1, accepted: true, quality: { ok: true, reasons: [] }, duplicateOf: null, templateId: expect.any(String) }),
      expect.objectContaining({ name: 'group photo.jpg', faces: 2, accepted: false, refusal: 'quality', quality: { ok: false, reasons: expect.arrayContaining(['multiple_faces']) } }),
      expect.objectContaining({ name: 'broken.gif', faces: 0, accepted: false, quality: { ok: false, reasons: ['not_an_image'] } }),
    ]);
    expect(body.photos[0].box).toHaveLength(4);
    expect(api.store.templates.list(id)).toHaveLength(1);
    expect(api.store.photos.count(id)).toBe(0);
    expect(api.registerChanges()).toBeGreaterThan(changes);
    expect(api.store.audit.search({ kind: 'admin', reason: 'person.enrol' }).items[0]).toMatchObject({ actor: 'alice', personId: id, body: { details: { photos: 3, accepted: 1 } } });
  });

  it('takes base64 JSON, and warns with the right name when the face belongs to someone else', async () => {
    const api = await start({ engine });
    const grace = await person(api, 'Grace Hopper');
    const eileen = await person(api, 'Eileen Collins');
    const other = await person(api, 'Not Grace');
    const b64 = (b: Buffer) => b.toString('base64');
    const g = await (await api.call('admin', `/api/people/${grace}/photos`, { method: 'POST', json: { photos: [{ name: 'g.jpg', data: `data:image/jpeg;base64,${b64(hopper)}` }] } })).json();
    expect(g.accepted).toBe(1);
    const e = await (await api.call('admin', `/api/people/${eileen}/photos`, { method: 'POST', json: { photos: [{ name: 'e.png', data: b64(collins) }] } })).json();
    expect(e.photos[0]).toMatchObject({ accepted: true, duplicateOf: null });
    const dup = await (await api.call('admin', `/api/people/${other}/photos`, { method: 'POST', json: { photos: [{ name: 'again.jpg', data: b64(hopper) }] } })).json();
    expect(dup.photos[0]).toMatchObject({ accepted: false, refusal: 'duplicate', duplicateOf: { personId: grace, name: 'Grace Hopper' } });
    expect(api.store.templates.meta(other)).toEqual([]);
    // force=1 stores it anyway, still warning.
    const forced = await (await api.call('admin', `/api/people/${other}/photos?force=1`, { method: 'POST', json: { photos: [{ name: 'again.jpg', data: b64(hopper) }] } })).json();
    expect(forced.photos[0]).toMatchObject({ accepted: true, duplicateOf: { personId: grace } });
    // Deleting Grace clears the duplicate for later enrolments.
    await api.call('admin', `/api/people/${grace}`, { method: 'DELETE' });
    const third = await person(api, 'Third');
    const after = await (await api.call('admin', `/api/people/${third}/photos`, { method: 'POST', json: { photos: [{ name: 'g.jpg', data: b64(hopper) }] } })).json();
    expect(after.photos[0].duplicateOf).toMatchObject({ personId: other, name: 'Not Grace' });
  });

  it('gives the size of the image as analysed, so the face box can be drawn over a downscaled photo', async () => {
    const api = await start({ engine });
    const id = await person(api, 'Grace Hopper');
    // 3000 px: over vision.decodeMaxSide (1920), so the engine works on a downscaled copy.
    const big = await sharp(hopper).resize({ width: 3000 }).jpeg({ quality: 90 }).toBuffer();
    const r = await (await api.call('admin', `/api/people/${id}/photos`, { method: 'POST', json: { photos: [{ name: 'big.jpg', data: big.toString('base64') }, { name: 'small.jpg', data: hopper.toString('base64') }, { name: 'x.gif', data: Buffer.from('GIF89a nope').toString('base64') }] } })).json();
    const [large, small, broken] = r.photos;
    expect(small).toMatchObject({ width: 512, height: 512, faces: 1 });
    expect(large).toMatchObject({ width: 1920, height: 1920, faces: 1 });
    expect(broken).toMatchObject({ width: null, height: null });
    // The box is in the analysed pixels: the same face, scaled by 1920/512, inside 1920 x 1920.
    const [x1, y1, x2, y2] = large.box as number[];
    expect(x2).toBeLessThanOrEqual(1920);
    expect(y2).toBeLessThanOrEqual(1920);
    const scale = 1920 / 512;
    expect(Math.abs(x1 - small.box[0] * scale)).toBeLessThan(40);
    expect(Math.abs(y1 - small.box[1] * scale)).toBeLessThan(40);
  });

  it('validates uploads: unknown person 404, no photos 400, too many 400, bad base64 400, oversized 413', async () => {
    const api = await start({ engine, config: { maxPhotosPerRequest: 2, maxUploadBytes: 2_000_000 } });
    const id = await person(api, 'A');
    expect((await api.call('admin', '/api/people/ghost/photos', { method: 'POST', json: { photos: [{ name: 'x', data: 'AAAA' }] } })).status).toBe(404);
    expect((await api.call('admin', `/api/people/${id}/photos`, { method: 'POST', json: { photos: [] } })).status).toBe(400);
    expect((await api.call('admin', `/api/people/${id}/photos`, { method: 'POST', json: { photos: [{ name: 'x', data: 'not base64!' }] } })).status).toBe(400);
    const three = { photos: [1, 2, 3].map((i) => ({ name: `p${i}`, data: 'AAAA' })) };
    expect((await api.call('admin', `/api/people/${id}/photos`, { method: 'POST', json: three })).status).toBe(400);
    const fd = new FormData();
    fd.append('photos', new Blob([Buffer.alloc(2_100_000)]), 'huge.jpg');
    expect((await api.call('admin', `/api/people/${id}/photos`, { method: 'POST', body: fd })).status).toBe(413);
    const empty = new FormData();
    empty.append('note', 'no files');
    expect((await api.call('admin', `/api/people/${id}/photos`, { method: 'POST', body: empty })).status).toBe(400);
    expect(api.store.templates.meta(id)).toEqual([]);
  });
});
