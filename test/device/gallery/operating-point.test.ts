import { afterEach, describe, expect, it, vi } from 'vitest';
import { Gallery } from '../../../device/gallery/gallery.ts';
import { OperatingPoint } from '../../../device/gallery/operating-point.ts';
import { xorshift } from '../../../scripts/eval/rng.ts';

const DIM = 32;
const r = xorshift(8);
const vec = () => Float32Array.from({ length: DIM }, () => r() - 0.5);
const background = Array.from({ length: 300 }, vec);

const open: { g: Gallery; op?: OperatingPoint }[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const { g, op } of open.splice(0)) {
    op?.close();
    await g.close();
  }
});
function setup(people: number, opts: { override?: number; debounceMs?: number } = {}) {
  const g = new Gallery({ dim: DIM, maxTemplates: 2048, kernel: { type: 'js', threads: 1 } });
  for (let i = 0; i < people; i++) g.addTemplate(`p${i}`, vec());
  const op = new OperatingPoint(g, background, { targetFpir: 0.01, sample: { sliceMs: 0 }, ...opts });
  open.push({ g, op });
  return { g, op };
}

describe('OperatingPoint', () => {
  it('derives the gallery threshold for the target FPIR and reports it', async () => {
    const { g, op } = setup(50);
    expect(op.state.source).toBe('fallback');
    await op.derive();
    const s = op.state;
    expect(s).toMatchObject({ source: 'derived', people: 50, targetFpir: 0.01 });
    // The point estimate at a threshold held within target at 90% confidence (few samples here).
    expect(s.expectedFpir!).toBeLessThan(0.01);
    expect(s.expectedFpir!).toBeGreaterThan(0.002);
    expect(g.matchThreshold).toBe(s.threshold);
  });

  it('re-derives once, debounced, after a burst of enrolments, with a higher threshold for more people', async () => {
    vi.useFakeTimers();
    const { g, op } = setup(20, { debounceMs: 1000 });
    await op.derive();
    const before = op.state.threshold;
    const derive = vi.spyOn(op, 'derive');
    for (let i = 0; i < 400; i++) g.addTemplate(`q${i}`, vec());
    await vi.advanceTimersByTimeAsync(999);
    expect(derive).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(derive).toHaveBeenCalledTimes(1);
    await derive.mock.results[0].value;
    expect(op.state.people).toBe(420);
    expect(op.state.threshold).toBeGreaterThan(before);
  });

  it('an expert override wins, and its expected FPIR is still reported', async () => {
    const { g, op } = setup(200, { override: 0.2 });
    expect(g.matchThreshold).toBe(0.2);
    await op.derive();
    expect(op.state).toMatchObject({ source: 'override', threshold: 0.2 });
    // 0.2 is low for 200 random people: the model says so.
    expect(op.state.expectedFpir!).toBeGreaterThan(0.05);
    expect(g.matchThreshold).toBe(0.2);
  });
});
