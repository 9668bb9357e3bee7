import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPairs } from '../../../scripts/eval/dataset.ts';
import { cosine } from '../../../core/vision/embedder.ts';
import type { VisionEngine } from '../../../core/vision/engine.ts';
import { ImageDecodeError } from '../../../core/vision/image.ts';
import { fixture, hasModels, hasShared, makeEngine, sharedDir, skipReason } from '../../helpers.ts';

const hopper = readFileSync(fixture('grace_hopper.jpg'));
const collins = readFileSync(fixture('astronaut_eileen_collins.png'));

/** Hopper on the left, Collins on the right, 800x400 JPEG. */
async function twoFaces(): Promise<Buffer> {
  const left = await sharp(hopper).resize(400, 400).toBuffer();
  const right = await sharp(collins).resize(400, 400).toBuffer();
  return sharp({ create: { width: 800, height: 400, channels: 3, background: '#808080' } })
    .composite([{ input: left, left: 0, top: 0 }, { input: right, left: 400, top: 0 }])
    .jpeg()
    .toBuffer();
}

describe.skipIf(skipReason(hasModels, 'models/ missing: run npm install'))('VisionEngine', () => {
  let engine: VisionEngine;
  beforeAll(async () => {
    engine = await makeEngine();
  });
  afterAll(() => engine?.close());

  it('finds one upright face with ordered landmarks and a unit embedding', async () => {
    const a = await engine.analyzeImage(hopper);
    expect(a.faces).toHaveLength(1);
    const f = a.faces[0];
    const [le, re, nose, lm, rm] = f.landmarks;
    expect(le[0]).toBeLessThan(re[0]);
    expect(Math.max(le[1], re[1])).toBeLessThan(nose[1]);
    expect(nose[1]).toBeLessThan(Math.min(lm[1], rm[1]));
    for (const p of f.landmarks) {
      expect(p[0]).toBeGreaterThan(f.box[0]);
      expect(p[0]).toBeLessThan(f.box[2]);
    }
    expect(f.quality.ok).toBe(true);
    const norm = Math.sqrt(f.embedding!.reduce((s, v) => s + v * v, 0));
    expect(norm).toBeCloseTo(1, 5);
    expect(f.liveness!.score).toBeGreaterThanOrEqual(0);
  });

  it('reports no face on an image without one', async () => {
    const noise = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 90, g: 120, b: 160 } } })
      .composite([{ input: Buffer.from('<svg width="320" height="240"><rect x="40" y="30" width="100" height="80" fill="#c33"/><circle cx="230" cy="150" r="50" fill="#3c3"/></svg>') }])
      .jpeg()
      .toBuffer();
    const a = await engine.analyzeImage(noise);
    expect(a.faces).toEqual([]);
    expect(a.primary).toBe(-1);
  });

  it('finds two faces and rejects them unless multiple faces are allowed', async () => {
    const both = await twoFaces();
    const a = await engine.analyzeImage(both);
    expect(a.faces).toHaveLength(2);
    for (const f of a.faces) expect(f.quality.reasons).toContain('multiple_faces');
    const centres = a.faces.map((f) => (f.box[0] + f.box[2]) / 2).sort((x, y) => x - y);
    expect(centres[0]).toBeLessThan(400);
    expect(centres[1]).toBeGreaterThan(400);
    const relaxed = await makeEngine((c) => (c.quality.allowMultipleFaces = true));
    try {
      const b = await relaxed.analyzeImage(both);
      for (const f of b.faces) expect(f.quality.reasons).not.toContain('multiple_faces');
    } finally {
      await relaxed.close();
    }
  });

  it('runs liveness on the primary face only when asked, with the same score, and on none when off', async () => {
    const both = await twoFaces();
    const img = await engine.decode(both);
    const all = await engine.analyze(img);
    const primary = await engine.analyze(img, { liveness: 'primary' });
    const none = await engine.analyze(img, { liveness: false });
    expect(all.faces).toHaveLength(2);
    expect(primary.primary).toBe(all.primary);
    primary.faces.forEach((f, i) => {
      if (i === primary.primary) expect(f.liveness?.score).toBeCloseTo(all.faces[i].liveness!.score, 6);
      else expect(f.liveness).toBeUndefined();
    });
    for (const f of none.faces) expect(f.liveness).toBeUndefined();
    // Pooled input buffers: analyses in flight at once give what they give one at a time.
    const together = await Promise.all([engine.analyze(img), engine.analyzeImage(hopper)]);
    const alone = await engine.analyzeImage(hopper);
    expect(together[0].faces.map((f) => f.liveness!.score)).toEqual(all.faces.map((f) => f.liveness!.score));
    expect(Array.from(together[1].faces[0].embedding!)).toEqual(Array.from(alone.faces[0].embedding!));
  });

  it('honours EXIF rotation end to end', async () => {
    const stored = await sharp(hopper).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const a = await engine.analyzeImage(stored);
    expect(a.faces).toHaveLength(1);
    expect(Math.abs(a.faces[0].pose.roll)).toBeLessThan(15);
    // The same pixels without the tag are a sideways face: the engine must not be reading them that way above.
    const untagged = await sharp(hopper).rotate(-90).jpeg().toBuffer();
    const b = await engine.analyzeImage(untagged);
    if (b.faces.length) expect(Math.abs(b.faces[0].pose.roll)).toBeGreaterThan(45);
  });

  it('gives a clear error for a truncated JPEG and keeps working', async () => {
    await expect(engine.analyzeImage(hopper.subarray(0, 5000))).rejects.toThrow(ImageDecodeError);
    const a = await engine.analyzeImage(hopper);
    expect(a.faces).toHaveLength(1);
  });

  it('rejects small, dark and blurred faces with the reason', async () => {
    const small = await sharp(hopper).resize(100, 100).jpeg().toBuffer();
    const s = await engine.analyzeImage(small);
    expect(s.faces[0]?.quality.reasons).toContain('too_small');
    const dark = await sharp(hopper).linear(0.12, 0).jpeg().toBuffer();
    const d = await engine.analyzeImage(dark);
    expect(d.faces[0]?.quality.reasons).toContain('too_dark');
    const blurred = await sharp(hopper).blur(6).jpeg().toBuffer();
    const b = await engine.analyzeImage(blurred);
    expect(b.faces[0]?.quality.reasons).toContain('blurry');
  });

  it('tells two different people apart', async () => {
    const a = (await engine.analyzeImage(hopper)).faces[0].embedding!;
    const b = (await engine.analyzeImage(collins)).faces[0].embedding!;
    expect(cosine(a, b)).toBeLessThan(engine.config.match.threshold);
  });

  describe.skipIf(skipReason(hasShared, `${sharedDir} not present: LFW pair checks skipped`))('on ../shared faces', () => {
    it('scores a same-person pair above and a different pair below the threshold', async () => {
      const pairs = readPairs(join(sharedDir, 'faces/pairs_lfw.tsv'));
      const same = pairs.filter((p) => p.same).slice(0, 3);
      const diff = pairs.filter((p) => !p.same).slice(0, 3);
      const emb = async (p: string) => {
        const a = await engine.analyzeImage(readFileSync(p), { embed: 'primary', liveness: false });
        return a.faces[a.primary].embedding!;
      };
      for (const p of same) expect(cosine(await emb(p.a), await emb(p.b))).toBeGreaterThanOrEqual(engine.config.match.threshold);
      for (const p of diff) expect(cosine(await emb(p.a), await emb(p.b))).toBeLessThan(engine.config.match.threshold);
    });
  });
});
