/** The in-memory duplicate index: cosine scores, other-person exclusion, removal without gaps. */
import { describe, expect, it } from 'vitest';
import { TemplateIndex } from '../../../gateway/enrol/index.ts';
import { vec } from '../store/helpers.ts';

describe('TemplateIndex', () => {
  it('finds the best template of another person with its cosine similarity', () => {
    const ix = new TemplateIndex();
    ix.add('t1', 'alice', vec(0));
    ix.add('t2', 'bob', vec(1));
    ix.add('t3', 'bob', vec(2));
    const q = vec(1, 512, 0, 0.5); // mostly bob's t2, a bit of alice
    const m = ix.best(q, 'carol');
    expect(m).toMatchObject({ personId: 'bob', templateId: 't2' });
    expect(m!.score).toBeCloseTo(1 / Math.sqrt(1.25), 5);
    // Excluding bob (enrolling more photos of bob) leaves alice as the nearest other person.
    expect(ix.best(q, 'bob')).toMatchObject({ personId: 'alice', templateId: 't1' });
    // Unnormalised input scores the same.
    expect(ix.best(q.map((x) => x * 7), 'carol')!.score).toBeCloseTo(m!.score, 5);
  });

  it('removes templates and people, moving rows so later searches stay right', () => {
    const ix = new TemplateIndex();
    for (let i = 0; i < 100; i++) ix.add(`t${i}`, `p${i % 10}`, vec(i));
    expect(ix.size).toBe(100);
    expect(ix.remove('t5')).toBe(true);
    expect(ix.remove('t5')).toBe(false);
    expect(ix.best(vec(5))!.score).toBeLessThan(0.01);
    expect(ix.best(vec(99))).toMatchObject({ templateId: 't99', personId: 'p9' });
    expect(ix.removePerson('p9')).toBe(10);
    expect(ix.size).toBe(89);
    expect(ix.best(vec(99))!.score).toBeLessThan(0.01);
    expect(ix.best(vec(42))).toMatchObject({ templateId: 't42', personId: 'p2' });
    // Grows past its first capacity and refuses another dimension.
    expect(() => ix.add('odd', 'p', new Float32Array(3))).toThrow(/3 values/);
  });
});
