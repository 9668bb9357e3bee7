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

  it('pairs only edges that enclose a region unlike both outsides: a staircase of wall panels is not a screen', () => {
    const mk = (right: number) => {
      const g: GreyImage = { width: 320, height: 240, data: new Uint8Array(320 * 240) };
      for (let y = 0; y < 240; y++) for (let x = 0; x < 320; x++) g.data[y * 320 + x] = x < 95 ? 60 : x < 225 ? 120 : right;
      return screenBorderScore(g, [140, 80, 180, 130]);
    };
    expect(mk(60)).toBeGreaterThan(0.9); // a lighter band between darker sides: a screen
    expect(mk(180)).toBeLessThan(0.2); // dark, mid, light: two unrelated steps
  });

  it('a phone held close (thin bezel, screen edge ~0.65 face widths out) with fingers over the upper part of one edge still scores', () => {
    const W = 320, H = 240;
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const inEll = (x: number, y: number, cx: number, cy: number, rx: number, ry: number) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
    const g: GreyImage = { width: W, height: H, data: new Uint8Array(W * H) };
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let v = 150; // room, about as bright as the screen: the 2-px bezel is the only contrast
        if (inEll(x, y, 160, 85, 21, 28)) v = 190; // the face on the screen
        else if (inEll(x, y, 192, 24, 14, 14) || inEll(x, y, 194, 50, 14, 14) || inEll(x, y, 193, 76, 14, 14)) v = 205; // fingers
        else if (x >= 132 && x < 188) v = 160 + 10 * Math.sin(y / 9); // screen
        else if ((x >= 130 && x < 132) || (x >= 188 && x < 190)) v = 40; // bezel
        g.data[y * W + x] = Math.round(v + (rnd() - 0.5) * 8);
      }
    }
    // The right edge is hidden above and beside the face, visible below the chin where a phone
    // (unlike a door frame behind shoulders) goes on.
    expect(screenBorderScore(g, [140, 60, 180, 110])).toBeGreaterThan(0.55);
  });

  it('returns 0 for a degenerate box and no evidence for an empty track', () => {
    const g: GreyImage = { width: 64, height: 64, data: new Uint8Array(64 * 64) };
    expect(screenBorderScore(g, [10, 10, 10, 10])).toBe(0);
    expect(screenBorderCue.create().feature()).toBeUndefined();
  });
});
