/**
 * The `blink` cue: a blink, or any clear dip in eye openness that comes back, is evidence of
 * life; a still photo (on paper or a phone) keeps the same eyes for the whole approach.
 *
 * Feature: the depth of the deepest dip in the mean openness of both eyes (fr_eye) that recovers
 * within `maxDipMs` on both sides, taken only where both eyes dropped (a one-eyed flicker of the
 * model is not a blink). 1 = a full open-closed-open blink, 0 = no change; undefined with too few
 * eye readings. A video replay shows the recorded person's blinks, so this cue stops stills only,
 * and live people do not blink every second: a high feature is strong evidence of life, a low
 * one weak evidence of an attack.
 */
import type { Cue, CueTracker, PadObservation } from './types.ts';

export interface BlinkParams {
  /** The eyes must be open again within this long before and after the closed frame (blinks are 100-500 ms). */
  maxDipMs: number;
  /** Eye readings and time span needed before the feature is reported. */
  minFrames: number;
  minSpanMs: number;
  /** Each eye must drop by at least this fraction of the mean dip. */
  bothEyes: number;
}

export const DEFAULT_BLINK: BlinkParams = { maxDipMs: 500, minFrames: 8, minSpanMs: 600, bothEyes: 0.5 };

interface Reading {
  ts: number;
  l: number;
  r: number;
}

/** Deepest recovered dip of a series of per-eye openness readings (sorted by time). */
export function deepestBlink(rs: Reading[], p: BlinkParams = DEFAULT_BLINK): number {
  let best = 0;
  for (let i = 1; i < rs.length - 1; i++) {
    const t = rs[i];
    let preL = -1, preR = -1, postL = -1, postR = -1, pre = -1, post = -1;
    for (let j = i - 1; j >= 0 && t.ts - rs[j].ts <= p.maxDipMs; j--) {
      preL = Math.max(preL, rs[j].l);
      preR = Math.max(preR, rs[j].r);
      pre = Math.max(pre, (rs[j].l + rs[j].r) / 2);
    }
    for (let j = i + 1; j < rs.length && rs[j].ts - t.ts <= p.maxDipMs; j++) {
      postL = Math.max(postL, rs[j].l);
      postR = Math.max(postR, rs[j].r);
      post = Math.max(post, (rs[j].l + rs[j].r) / 2);
    }
    if (pre < 0 || post < 0) continue;
    const depth = Math.min(pre, post) - (t.l + t.r) / 2;
    if (depth <= best) continue;
    const dropL = Math.min(preL, postL) - t.l;
    const dropR = Math.min(preR, postR) - t.r;
    if (dropL >= p.bothEyes * depth && dropR >= p.bothEyes * depth) best = depth;
  }
  return Math.min(1, best);
}

export class BlinkTracker implements CueTracker {
  private readonly rs: Reading[] = [];
  constructor(private readonly p: BlinkParams = DEFAULT_BLINK) {}

  observe(o: PadObservation): void {
    if (!o.eyesOpen) return;
    this.rs.push({ ts: o.ts, l: o.eyesOpen[0], r: o.eyesOpen[1] });
  }

  feature(): number | undefined {
    const rs = this.rs;
    if (rs.length < this.p.minFrames || rs[rs.length - 1].ts - rs[0].ts < this.p.minSpanMs) return undefined;
    return deepestBlink(rs, this.p);
  }
}

export const blinkCue = (params: BlinkParams = DEFAULT_BLINK): Cue => ({ name: 'blink', create: () => new BlinkTracker(params) });
