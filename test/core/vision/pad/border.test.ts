import { describe, expect, it } from 'vitest';
import { craftedSequence, type CraftedKind } from '../../../../scripts/pad/crafted.ts';
import { screenBorderCue, screenBorderScore } from '../../../../core/vision/pad/border.ts';
import { toGrey, type GreyImage, type PadObservation } from '../../../../core/vision/pad/types.ts';
import type { Box } from '../../../../core/vision/geometry.ts';
import { fixture } from '../../../helpers.ts';

/** The cue's track feature over a crafted clip, faces placed where the generator put them. */
async function trackFeature(kind: CraftedKind, portrait: string, seed: number): Promise<number | undefined> {
  const s = await craftedSequence({ portrait: fixture(portrait), kind, frames: 8, seed });
  const t = screenBorderCue.create();
  s.frames.forEach((img, i) => {
    t.observe({ ts: i * 66, img, grey: toGrey(img), box: s.faceBoxes[i], landmarks68: [], landmarks: [], pose: { yaw: 0, pitch: 0, roll: 0 } } as unknown as PadObservation);
  });
  return t.feature();
}

describe('screen_border cue', () => {
  it('is named for the fusion', () => expect(screenBorderCue.name).toBe('screen_border'));

  for (const portrait of ['grace_hopper.jpg', 'astronaut_eileen_collins.png']) {
    it(`scores a phone, monitor and print of ${portrait} high and the live composite low`, async () => {
      const live = (await trackFeature('live', portrait, 4))!;
      for (const kind of ['phone', 'monitor', 'print'] as const) {
        const f = (await trackFeature(kind, portrait, 4))!;
        expect(f, kind).toBeGreaterThan(0.8);
        expect(f - live, kind).toBeGreaterThan(0.3);
      }
      expect(live).toBeLessThan(0.5);
    }, 30_000);
  }

  it('needs edges on BOTH sides: one door frame beside the face is not a border', () => {
    const g: GreyImage = { width: 320, height: 240, data: new Uint8Array(320 * 240).fill(120) };
    const box: Box = [140, 80, 180, 130];
    const paint = (x0: number, x1: number, v: number) => {
      for (let y = 0; y < 240; y++) for (let x = x0; x < x1; x++) g.data[y * 320 + x] = v;
    };
    paint(90, 100, 20); // a dark vertical bar 1 face width left of the face, top to bottom
    expect(screenBorderScore(g, box)).toBeLessThan(0.2);
    paint(220, 230, 20); // and its twin on the right: a bezel
    expect(screenBorderScore(g, box)).toBeGreaterThan(0.9);
  });

  it('a pair of edges that stops at the chin (shoulders) scores lower than one running past it', () => {
    const mk = (bottom: number) => {
      const g: GreyImage = { width: 320, height: 240, data: new Uint8Array(320 * 240).fill(120) };
      for (let y = 0; y < bottom; y++) for (const x0 of [90, 220]) for (let x = x0; x < x0 + 10; x++) g.data[y * 320 + x] = 20;
      return screenBorderScore(g, [140, 80, 180, 130]);
    };
    expect(mk(240) - mk(132)).toBeGreaterThan(0.2);
  });

  it('returns 0 for a degenerate box and no evidence for an empty track', () => {
    const g: GreyImage = { width: 64, height: 64, data: new Uint8Array(64 * 64) };
    expect(screenBorderScore(g, [10, 10, 10, 10])).toBe(0);
    expect(screenBorderCue.create().feature()).toBeUndefined();
  });
});
