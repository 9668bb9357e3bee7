import { describe, expect, it } from 'vitest';
import { applyAffine, estimateSimilarity, iou, landmarks68to5, nms, poseFromLandmarks, type Point } from '../../../core/vision/geometry.ts';
import { invertAffine } from '../../../core/vision/warp.ts';

describe('estimateSimilarity (Umeyama)', () => {
  it('recovers a hand-computed rotation + scale + translation exactly', () => {
    // dst = 2 * R(90deg) * src + (10, 20): (x, y) -> (-2y + 10, 2x + 20).
    const src: Point[] = [[0, 0], [1, 0], [0, 1], [2, 3]];
    const dst: Point[] = [[10, 20], [10, 22], [8, 20], [4, 24]];
    const m = estimateSimilarity(src, dst);
    const expected = [0, -2, 10, 2, 0, 20];
    m.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 10));
  });

  it('gives the least-squares fit for noisy points (hand-computed)', () => {
    // src square of side 2 centred at 0; dst is the same square with one corner pushed out.
    const src: Point[] = [[-1, -1], [1, -1], [1, 1], [-1, 1]];
    const dst: Point[] = [[-1, -1], [1, -1], [2, 2], [-1, 1]];
    // Centred dst: mean (0.25, 0.25). sum(s.d) = 2+... computed by hand: a = 10/8... see below.
    // s . d_c: (-1,-1).(-1.25,-1.25)=2.5, (1,-1).(0.75,-1.25)=2, (1,1).(1.75,1.75)=3.5, (-1,1).(-1.25,0.75)=2 -> 10
    // s x d_c: (-1)(-1.25)-(-1)(-1.25)=0, (1)(-1.25)-(-1)(0.75)=-0.5, (1)(1.75)-(1)(1.75)=0, (-1)(0.75)-(1)(-1.25)=0.5 -> 0
    // |s|^2 sum = 8 -> a = 1.25, b = 0, t = mean(dst) = (0.25, 0.25).
    const m = estimateSimilarity(src, dst);
    const expected = [1.25, 0, 0.25, 0, 1.25, 0.25];
    m.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 10));
  });

  it('inverse maps template points back to image points', () => {
    const src: Point[] = [[100, 120], [160, 118], [130, 150], [108, 180], [155, 178]];
    const dst: Point[] = [[38.29, 51.69], [73.53, 51.5], [56.02, 71.73], [41.54, 92.36], [70.72, 92.2]];
    const m = estimateSimilarity(src, dst);
    const inv = invertAffine(m);
    const back = applyAffine(inv, applyAffine(m, src[2]));
    expect(back[0]).toBeCloseTo(src[2][0], 9);
    expect(back[1]).toBeCloseTo(src[2][1], 9);
  });

  it('rejects degenerate input', () => {
    expect(() => estimateSimilarity([[1, 1], [1, 1]], [[0, 0], [1, 1]])).toThrow(/same point/);
    expect(() => estimateSimilarity([[1, 1]], [[0, 0]])).toThrow();
  });
});

describe('nms', () => {
  it('keeps the best of overlapping boxes and keeps separate faces', () => {
    const kept = nms(
      [
        { box: [0, 0, 10, 10], score: 0.8 },
        { box: [1, 1, 11, 11], score: 0.9 },
        { box: [50, 50, 60, 60], score: 0.7 },
        { box: [0, 0, 10, 5], score: 0.95 },
      ],
      0.4,
    );
    // [0,0,10,5] vs [1,1,11,11]: inter 9*4=36, union 50+100-36=114 -> 0.32 < 0.4, both kept.
    expect(kept.map((k) => k.score)).toEqual([0.95, 0.9, 0.7]);
  });

  it('computes IoU by hand', () => {
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150, 12);
    expect(iou([0, 0, 1, 1], [2, 2, 3, 3])).toBe(0);
  });

  it('respects maxKeep', () => {
    const boxes = Array.from({ length: 5 }, (_, i) => ({ box: [i * 20, 0, i * 20 + 10, 10] as [number, number, number, number], score: i / 10 }));
    expect(nms(boxes, 0.5, 2).map((b) => b.score)).toEqual([0.4, 0.3]);
  });
});

describe('landmarks and pose', () => {
  it('maps 68 points to eye centres, nose tip and mouth corners', () => {
    const p68: Point[] = Array.from({ length: 68 }, (_, i) => [i, i * 2]);
    const p5 = landmarks68to5(p68);
    expect(p5[0]).toEqual([(37 + 38 + 40 + 41) / 4, ((37 + 38 + 40 + 41) / 4) * 2]);
    expect(p5[2]).toEqual([30, 60]);
    expect(p5[3]).toEqual([54, 108]);
    expect(p5[4]).toEqual([59, 118]);
  });

  it('reads a frontal face as near zero and a rolled one by its eye line', () => {
    const frontal: Point[] = [[38.29, 51.69], [73.53, 51.5], [56.02, 71.73], [41.54, 92.36], [70.72, 92.2]];
    const p = poseFromLandmarks(frontal);
    expect(Math.abs(p.yaw)).toBeLessThan(3);
    expect(Math.abs(p.roll)).toBeLessThan(1);
    expect(Math.abs(p.pitch)).toBeLessThan(10);
    const rolled = frontal.map(([x, y]) => [x * Math.cos(0.5) - y * Math.sin(0.5), x * Math.sin(0.5) + y * Math.cos(0.5)] as Point);
    expect(poseFromLandmarks(rolled).roll).toBeCloseTo(0.5 * (180 / Math.PI), 0);
    const turned: Point[] = frontal.map((q, i) => (i === 2 ? [q[0] + 14, q[1]] : q));
    expect(poseFromLandmarks(turned).yaw).toBeGreaterThan(20);
  });
});
