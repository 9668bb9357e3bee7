/**
 * The loop runs the second embedding only when the best main score lies within the fusion band
 * of the threshold, and votes with the fused score (scripted engine, counting second embedder).
 */
import { describe, expect, it } from 'vitest';
import type { AnalyzeOptions } from '../../../core/vision/engine.ts';
import { galleryConfigSchema } from '../../../device/gallery/config.ts';
import { Gallery } from '../../../device/gallery/gallery.ts';
import { livenessConfigSchema } from '../../../device/liveness/config.ts';
import { type DecisionEvent } from '../../../device/recognition/loop.ts';
import { feedFrames, scriptedEngine, scriptedFace, scriptedLoop } from './scripted.ts';

/** Unit vector with cosine `c` to axis 0. */
const at = (c: number, dim = 512) => {
  const v = new Float32Array(dim);
  v[0] = c;
  v[1] = Math.sqrt(1 - c * c);
  return v;
};

async function run(mainScore: number, secondScore: number, opts: { withSecondTemplate?: boolean; frames?: number } = {}) {
  const clock = { t: 1_000_000 };
  const gallery = new Gallery(galleryConfigSchema.parse({ maxTemplates: 8, kernel: { type: 'js', threads: 1 } }));
  const enrolled = new Float32Array(512);
  enrolled[0] = 1;
  const enrolledSecond = new Float32Array(192);
  enrolledSecond[0] = 1;
  gallery.setPerson('p1', [enrolled], opts.withSecondTemplate === false ? [] : [enrolledSecond]);
  const asked: AnalyzeOptions[] = [];
  const engine = scriptedEngine((o) => {
    asked.push(o);
    return [scriptedFace({ embedding: at(mainScore), aligned: o.keepAligned ? new Float32Array(3 * 112 * 112) : undefined })];
  });
  let embeds = 0;
  const secondEmbedder = {
    embed: async (aligned: Float32Array) => {
      expect(aligned.length).toBe(3 * 112 * 112);
      embeds++;
      return at(secondScore, 192);
    },
  };
  const config = livenessConfigSchema.parse({ level: 'off' });
  const loop = scriptedLoop(
    {
      engine,
      gallery,
      secondEmbedder,
      liveness: { config, calibration: { about: 't', intercept: 0, cues: {} }, cues: [], eyes: false },
    },
    clock,
  );
  const decisions: DecisionEvent[] = [];
  loop.on('decision', (d: DecisionEvent) => decisions.push(d));
  await feedFrames(loop, opts.frames ?? 6, clock);
  await gallery.close();
  return { embeds, decisions, asked };
}

describe('recognition loop with the second embedding', () => {
  it('outside the band the second model never runs', async () => {
    const high = await run(0.9, 0);
    expect(high.embeds).toBe(0);
    expect(high.decisions[0]).toMatchObject({ granted: true, personId: 'p1', score: 0.9 });
    const low = await run(0.2, 1);
    expect(low.embeds).toBe(0);
    expect(low.decisions[0]).toMatchObject({ granted: false, reason: 'unknown' });
  });

  it('inside the band it runs once per frame and the vote uses the fused score', async () => {
    const agree = await run(0.45, 0.95, { frames: 3 });
    expect(agree.embeds).toBe(3);
    expect(agree.asked.every((o) => o.keepAligned)).toBe(true);
    expect(agree.decisions[0]).toMatchObject({ granted: true, personId: 'p1' });
    expect(agree.decisions[0].score).toBeCloseTo((0.45 + 0.95) / 2, 3);
    const disagree = await run(0.58, 0.1, { frames: 3 });
    expect(disagree.embeds).toBe(3);
    expect(disagree.decisions[0]).toMatchObject({ granted: false, reason: 'unknown' });
  });

  it('with nobody holding a second template the crop is not even kept', async () => {
    const r = await run(0.5, 1, { withSecondTemplate: false, frames: 3 });
    expect(r.embeds).toBe(0);
    expect(r.asked.some((o) => o.keepAligned)).toBe(false);
    expect(r.decisions[0]).toMatchObject({ granted: true, personId: 'p1', score: 0.5 });
  });
});
