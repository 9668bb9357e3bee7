/**
 * The `passive` cue: fr_liveness's live probability per frame, as a logit averaged over the
 * approach. The raw probability is squashed near 0 (live webcam faces score ~0.02-0.3), so the
 * mean of logits keeps the ordering the model has instead of letting one frame dominate.
 */
import type { Cue, CueTracker, PadObservation } from './types.ts';

const EPS = 1e-4;
export const logit = (p: number): number => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};

class PassiveTracker implements CueTracker {
  private sum = 0;
  private n = 0;
  observe(o: PadObservation): void {
    if (o.passive === undefined) return;
    this.sum += logit(o.passive);
    this.n++;
  }
  feature(): number | undefined {
    return this.n ? this.sum / this.n : undefined;
  }
}

export const passiveCue: Cue = { name: 'passive', create: () => new PassiveTracker() };
