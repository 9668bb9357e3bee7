/**
 * The recognition loop's liveness path without models: a scripted engine returns one face per
 * frame (always the enrolled person's embedding), with the passive score, eye openness and
 * pose the test wants; the loop's clock follows the frames' timestamps.
 */
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { passiveCue } from '../../../core/vision/pad/passive.ts';
import type { Cue } from '../../../core/vision/pad/types.ts';
import { galleryConfigSchema } from '../../../device/gallery/config.ts';
import { Gallery } from '../../../device/gallery/gallery.ts';
import { livenessConfigSchema } from '../../../device/liveness/config.ts';
import type { Calibration } from '../../../device/liveness/fusion.ts';
import { type DecisionEvent, type LivenessEvent } from '../../../device/recognition/loop.ts';
import { feedFrames, scriptedEngine, scriptedFace, scriptedLoop } from './scripted.ts';

const EMB = (() => {
  const e = new Float32Array(512);
  e[0] = 1;
  return e;
})();

interface Script {
  passive: number;
  eyes?: [number, number];
}

const scripted = (script: (i: number) => Script) =>
  scriptedEngine((opts, i) => {
    const s = script(i);
    return [scriptedFace({ embedding: EMB, eyesOpen: opts.eyes ? (s.eyes ?? [0.95, 0.95]) : undefined, liveness: opts.liveness ? { score: s.passive, live: true, probs: [] } : undefined })];
  });

/** The passive feature (mean logit) is the only evidence: live above logit 0. */
const cal: Calibration = { about: 'test', intercept: 0, cues: { passive: { weight: 1, center: 0, cap: 10 } } };
const passiveOnly: Cue[] = [passiveCue];

async function run(liveness: z.input<typeof livenessConfigSchema>, script: (i: number) => Script, frames: number, opts: { random?: () => number } = {}) {
  const clock = { t: 1_000_000 };
  const gallery = new Gallery(galleryConfigSchema.parse({ maxTemplates: 8, kernel: { type: 'js', threads: 1 } }));
  gallery.addTemplate('p1', EMB);
  const prompts: string[] = [];
  const config = livenessConfigSchema.parse(liveness);
  const loop = scriptedLoop(
    {
      engine: scripted(script),
      gallery,
      liveness: { config, calibration: cal, cues: config.level === 'off' ? [] : passiveOnly, eyes: true, prompt: (t) => prompts.push(t), random: opts.random },
    },
    clock,
  );
  const decisions: DecisionEvent[] = [];
  const live: LivenessEvent[] = [];
  const challenges: { prompt: string }[] = [];
  loop.on('decision', (d) => decisions.push(d));
  loop.on('liveness', (e) => live.push(e));
  loop.on('challenge', (c) => challenges.push(c));
  await feedFrames(loop, frames, clock);
  await gallery.close();
  return { decisions, live, challenges, prompts };
}

describe('recognition loop with per-approach liveness', () => {
  it('standard: waits for the approach (attemptMs) although the vote agreed after 3 frames, then grants', async () => {
    const r = await run({ level: 'standard', attemptMs: 1000, minFrames: 4 }, () => ({ passive: 0.9 }), 20);
    expect(r.decisions).toHaveLength(1);
    expect(r.decisions[0]).toMatchObject({ granted: true, personId: 'p1' });
    expect(r.decisions[0].approachMs).toBe(1000);
    expect(r.decisions[0].liveness).toMatchObject({ level: 'standard', live: true, frames: 11 });
    expect(r.live).toHaveLength(1);
  });

  it('standard: an attack is refused naming the cue, and the decision carries each contribution', async () => {
    const r = await run({ level: 'standard' }, () => ({ passive: 0.05 }), 20);
    expect(r.decisions).toHaveLength(1);
    expect(r.decisions[0]).toMatchObject({ granted: false, reason: 'not_live:passive', personId: 'p1' });
    expect(r.decisions[0].liveness!.cues.passive).toBeLessThan(0);
  });

  it('off: the vote alone decides, with no liveness wait', async () => {
    const r = await run({ level: 'off' }, () => ({ passive: 0.01 }), 20);
    expect(r.decisions[0]).toMatchObject({ granted: true, approachMs: 200 });
    expect(r.live).toHaveLength(0);
  });

  it('strict: asks for a blink after the cues pass, and grants once it is seen', async () => {
    const r = await run({ level: 'strict', levels: { strict: 1 }, challenge: { kinds: ['blink'], timeoutMs: 3000 } }, (i) => ({ passive: 0.9, eyes: i >= 18 && i <= 19 ? [0.05, 0.05] : [0.95, 0.95] }), 40);
    expect(r.prompts).toEqual(['Please blink']);
    expect(r.challenges).toHaveLength(1);
    expect(r.decisions).toHaveLength(1);
    expect(r.decisions[0]).toMatchObject({ granted: true });
    expect(r.decisions[0].liveness!.challenge).toMatchObject({ kind: 'blink', state: 'passed' });
    expect(r.decisions[0].approachMs).toBeGreaterThan(1800);
  });

  it('strict: no blink within the time limit is refused as not_live:active_check', async () => {
    const r = await run({ level: 'strict', levels: { strict: 1 }, challenge: { kinds: ['blink'], timeoutMs: 1500 } }, () => ({ passive: 0.9 }), 40);
    expect(r.decisions).toHaveLength(1);
    expect(r.decisions[0]).toMatchObject({ granted: false, reason: 'not_live:active_check' });
    expect(r.decisions[0].liveness!.challenge).toMatchObject({ state: 'failed', reason: 'timeout' });
  });

  it('strict: an approach the cues refuse is not asked anything', async () => {
    const r = await run({ level: 'strict', challenge: { kinds: ['blink'] } }, () => ({ passive: 0.05 }), 20);
    expect(r.prompts).toEqual([]);
    expect(r.decisions[0].reason).toBe('not_live:passive');
  });
});
