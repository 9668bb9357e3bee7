import { describe, expect, it } from 'vitest';
import { blinkCue, BlinkTracker } from '../../../../core/vision/pad/blink.ts';
import { headLandmarks, observation } from './synthetic-face.ts';

const LM = headLandmarks(0, 160, 120, 0.5);
const FPS = 15;

/** A tracker fed `eyes(i)` on frame i of n at 15 fps. */
function run(n: number, eyes: (i: number) => [number, number] | undefined): BlinkTracker {
  const t = new BlinkTracker();
  for (let i = 0; i < n; i++) t.observe(observation((i * 1000) / FPS, LM, { eyesOpen: eyes(i) }));
  return t;
}

describe('blink cue', () => {
  it('sees a two-frame blink of both eyes', () => {
    const t = run(20, (i) => (i === 9 || i === 10 ? [0.05, 0.08] : [0.95, 0.9]));
    expect(t.feature()).toBeGreaterThan(0.8);
  });

  it('reports no change for eyes open throughout (a still photo)', () => {
    expect(run(20, () => [0.93, 0.96]).feature()).toBeLessThan(0.05);
  });

  it('ignores a dip of one eye only (a flicker of the eye model)', () => {
    expect(run(20, (i) => (i === 9 ? [0.05, 0.95] : [0.95, 0.95])).feature()).toBeLessThan(0.2);
  });

  it('does not call eyes that close and stay closed a blink', () => {
    // Closed from frame 8 for 1.5 s: no reopening within 500 ms of any closed frame.
    expect(run(40, (i) => (i >= 8 && i < 31 ? [0.05, 0.05] : i >= 31 ? [0.9, 0.9] : [0.9, 0.9])).feature()).toBeLessThan(0.2);
  });

  it('measures the depth of a partial dip', () => {
    const f = run(20, (i) => (i === 9 ? [0.5, 0.5] : [0.9, 0.9])).feature()!;
    expect(f).toBeGreaterThan(0.3);
    expect(f).toBeLessThan(0.5);
  });

  it('has no evidence with too few eye readings', () => {
    expect(run(5, () => [0.9, 0.9]).feature()).toBeUndefined();
    expect(run(20, () => undefined).feature()).toBeUndefined();
  });

  it('is exposed as the blink cue', () => {
    const cue = blinkCue();
    expect(cue.name).toBe('blink');
    const t = cue.create();
    for (let i = 0; i < 20; i++) t.observe(observation((i * 1000) / FPS, LM, { eyesOpen: i === 9 ? [0, 0] : [1, 1] }));
    expect(t.feature()).toBeGreaterThan(0.9);
  });
});
