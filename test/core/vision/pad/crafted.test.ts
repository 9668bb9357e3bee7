import { describe, expect, it } from 'vitest';
import { craftedClip, craftedSequence } from '../../../../scripts/pad/crafted.ts';
import { fixture } from '../../../helpers.ts';

const portrait = fixture('grace_hopper.jpg');

describe('crafted PAD clips', () => {
  it('are deterministic for a seed and differ across seeds', async () => {
    const a = await craftedClip({ portrait, kind: 'phone', frames: 3, seed: 5 });
    const b = await craftedClip({ portrait, kind: 'phone', frames: 3, seed: 5 });
    const c = await craftedClip({ portrait, kind: 'phone', frames: 3, seed: 6 });
    expect(a.length).toBe(3);
    expect(a[0][0]).toBe(0xff);
    expect(a[1][1]).toBe(0xd8);
    expect(Buffer.concat(a).equals(Buffer.concat(b))).toBe(true);
    expect(Buffer.concat(a).equals(Buffer.concat(c))).toBe(false);
  });

  it('moves the device rigidly but keeps the room still, and the face box follows', async () => {
    const s = await craftedSequence({ portrait, kind: 'phone', frames: 8, seed: 1, width: 320, height: 240 });
    const [b0, b7] = [s.faceBoxes[0], s.faceBoxes[7]];
    expect(Math.hypot(b7[0] - b0[0], b7[1] - b0[1])).toBeGreaterThan(2);
    // A corner pixel of the room (far from the phone) only changes by sensor noise.
    const i = (5 * 320 + 5) * 3;
    expect(Math.abs(s.frames[0].data[i] - s.frames[7].data[i])).toBeLessThanOrEqual(8);
    // The face box is about 0.45 of a 200-unit screen at 240/480 scale: ~45 px wide.
    expect(b0[2] - b0[0]).toBeGreaterThan(35);
    expect(b0[2] - b0[0]).toBeLessThan(60);
  });

  it('a still clip barely moves', async () => {
    const s = await craftedSequence({ portrait, kind: 'live', frames: 5, seed: 1, width: 320, height: 240, motion: 'still' });
    expect(Math.abs(s.faceBoxes[4][0] - s.faceBoxes[0][0])).toBeLessThan(1);
  });
});
