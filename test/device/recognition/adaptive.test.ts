import { afterEach, describe, expect, it } from 'vitest';
import { Gallery } from '../../../device/gallery/gallery.ts';
import { recognitionConfigSchema } from '../../../device/recognition/config.ts';
import { AdaptiveEnrolment } from '../../../device/recognition/adaptive.ts';
import { xorshift } from '../../../scripts/eval/rng.ts';

const DIM = 32;
const r = xorshift(4);
const vec = () => Float32Array.from({ length: DIM }, () => r() - 0.5);
/** A frame of the same face: the template plus a little noise. */
const near = (v: Float32Array, amount = 0.05) => Float32Array.from(v, (x) => x + amount * (r() - 0.5));

const open: Gallery[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
});

function setup(adaptive: Record<string, unknown> = {}) {
  const g = new Gallery({ dim: DIM, maxTemplates: 256, kernel: { type: 'js', threads: 1 } });
  open.push(g);
  const ann = vec();
  g.addTemplate('ann', ann);
  g.addTemplate('bob', vec());
  const audit: Record<string, unknown>[] = [];
  let now = 1_000_000;
  const cfg = recognitionConfigSchema.parse({ adaptive: { enabled: true, minFrames: 3, maxPerPerson: 2, minIntervalMs: 60_000, ...adaptive } }).adaptive;
  const a = new AdaptiveEnrolment(g, cfg, (b) => audit.push(b), () => now);
  const grant = { granted: true, personId: 'ann', frameTs: now, door: 'main' };
  return { g, a, ann, audit, grant, advance: (ms: number) => (now += ms) };
}

describe('adaptive enrolment', () => {
  it('a confident multi-frame grant adds one audited template', () => {
    const { g, a, ann, audit, grant } = setup();
    for (let i = 0; i < 3; i++) g.search(near(ann));
    expect(a.onDecision(grant)).toBe(true);
    expect(g.adaptiveCount('ann')).toBe(1);
    expect(audit).toEqual([expect.objectContaining({ event: 'adaptive_template', personId: 'ann', frames: 3, replacedOldest: false, adaptiveTemplates: 1 })]);
  });

  it('is capped per person: the oldest adaptive template is replaced, and each update waits minIntervalMs', () => {
    const { g, a, ann, audit, grant, advance } = setup();
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < 3; i++) g.search(near(ann));
      expect(a.onDecision(grant)).toBe(true);
      // Too soon for another.
      for (let i = 0; i < 3; i++) g.search(near(ann));
      expect(a.onDecision(grant)).toBe(false);
      advance(60_001);
    }
    expect(g.adaptiveCount('ann')).toBe(2);
    expect(g.templateCount('ann')).toBe(3);
    expect(audit.map((e) => e.replacedOldest)).toEqual([false, false, true]);
  });

  it('nothing is learnt from refusals, too few frames, doubtful scores, or when disabled', () => {
    const { g, a, ann, grant } = setup();
    for (let i = 0; i < 3; i++) g.search(near(ann));
    expect(a.onDecision({ ...grant, granted: false })).toBe(false);
    const s = setup();
    for (let i = 0; i < 2; i++) s.g.search(near(s.ann));
    expect(s.a.onDecision(s.grant)).toBe(false);
    const far = setup();
    // Frames that match ann only weakly never count.
    for (let i = 0; i < 5; i++) far.g.search(near(far.ann, 3));
    expect(far.a.onDecision(far.grant)).toBe(false);
    const off = setup({ enabled: false });
    for (let i = 0; i < 3; i++) off.g.search(near(off.ann));
    expect(off.a.onDecision(off.grant)).toBe(false);
    expect([g, s.g, far.g, off.g].map((x) => x.adaptiveCount('ann'))).toEqual([0, 0, 0, 0]);
  });

  it('frames older than the approach window are not used', () => {
    const { g, a, ann, grant, advance } = setup();
    for (let i = 0; i < 3; i++) g.search(near(ann));
    advance(10_000);
    expect(a.onDecision(grant)).toBe(false);
  });
});
