/**
 * Candidate cue measured by measure-motion.ts, not shipped: how much the mouth moves over the
 * approach (standard deviation of the lip gap, 51-57 and 62-66 of the 68 points, in inter-ocular
 * distances). A still photo keeps one mouth; a live face at a door mostly does too, which is why
 * it stays a measurement here rather than a cue.
 */
import type { Cue, CueTracker, PadObservation } from '../../core/vision/pad/types.ts';

class MouthTracker implements CueTracker {
  private readonly gaps: number[] = [];
  observe(o: PadObservation): void {
    const p = o.landmarks68;
    const d = (a: number, b: number) => Math.hypot(p[a][0] - p[b][0], p[a][1] - p[b][1]);
    const iod = d(36, 45);
    if (iod > 0) this.gaps.push((d(51, 57) + d(62, 66)) / 2 / iod);
  }
  feature(): number | undefined {
    const g = this.gaps;
    if (g.length < 8) return undefined;
    const m = g.reduce((a, b) => a + b, 0) / g.length;
    return Math.sqrt(g.reduce((a, b) => a + (b - m) ** 2, 0) / g.length);
  }
}

export const mouthCue: Cue = { name: 'blink', create: () => new MouthTracker() };
