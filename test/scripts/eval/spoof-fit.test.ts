import { describe, expect, it } from 'vitest';
import { fuse } from '../../../device/liveness/fusion.ts';
import { featureAuc, fitCalibration, leaveOneSubjectOut, rates, type Attempt } from '../../../scripts/eval/spoof-fit.ts';
import { labelIsLive, subjectOf } from '../../../scripts/eval/video-list.ts';
import { xorshift } from '../../../scripts/eval/rng.ts';

/** Live approaches have a low border score; attacks a high one; passive is noise. */
function synthetic(subjects: string[], perSubject: number, seed = 1): Attempt[] {
  const rnd = xorshift(seed);
  const out: Attempt[] = [];
  for (const subject of subjects)
    for (let i = 0; i < perSubject; i++) {
      const live = i % 2 === 0;
      out.push({ clip: `${subject}-${live}`, subject, live, features: { screen_border: (live ? 0.2 : 0.7) + (rnd() - 0.5) * 0.3, passive: rnd() * 4 - 2 } });
    }
  return out;
}

describe('liveness weight fitting', () => {
  it('learns that a border score means attack and ignores a noise cue', () => {
    const cal = fitCalibration(synthetic(['a', 'b', 'c'], 40));
    expect(cal.cues.screen_border!.weight).toBeLessThan(-5);
    expect(Math.abs(cal.cues.passive!.weight)).toBeLessThan(Math.abs(cal.cues.screen_border!.weight) / 5);
    const r = rates(synthetic(['d'], 40, 7), cal, 0);
    expect(r.apcer).toBeLessThan(0.1);
    expect(r.bpcer).toBeLessThan(0.1);
    // Dropping the informative cue leaves chance-level decisions.
    const blind = rates(synthetic(['d'], 40, 7), cal, 0, ['screen_border']);
    expect(blind.apcer + blind.bpcer).toBeGreaterThan(0.6);
  });

  it('the fitted weights reproduce the regression through the device fusion', () => {
    const data = synthetic(['a', 'b'], 30);
    const cal = fitCalibration(data);
    const a = data[3];
    const z = cal.intercept + cal.cues.screen_border!.weight * (a.features.screen_border! - cal.cues.screen_border!.center) + cal.cues.passive!.weight * (a.features.passive! - cal.cues.passive!.center);
    expect(fuse({ ...cal, cues: { screen_border: { ...cal.cues.screen_border!, cap: 99 }, passive: { ...cal.cues.passive!, cap: 99 } } }, a.features).logOdds).toBeCloseTo(z, 9);
  });

  it('leave one subject out never scores a subject with weights fitted on it', () => {
    const data = synthetic(['a', 'b', 'c'], 20);
    // Subject c is labelled the other way round: a fit that saw it could not be this wrong on it.
    for (const x of data) if (x.subject === 'c') x.live = !x.live;
    const res = leaveOneSubjectOut(data, ['a', 'b', 'c'], 0);
    const c = res.find((r) => r.subject === 'c')!;
    expect(c.apcer).toBeGreaterThan(0.8);
    expect(c.bpcer).toBeGreaterThan(0.8);
    expect(() => fitCalibration(data.filter((x) => x.live))).toThrow(/need both/);
  });

  it('AUC is 1 when every live feature is above every attack feature', () => {
    const data: Attempt[] = [0.9, 0.8].map((v) => ({ clip: 'x', subject: 's', live: true, features: { blink: v } }));
    data.push(...[0.1, 0.2].map((v) => ({ clip: 'y', subject: 's', live: false, features: { blink: v } })));
    expect(featureAuc(data, 'blink')).toBe(1);
    expect(Number.isNaN(featureAuc(data, 'passive'))).toBe(true);
  });
});

describe('clip lists', () => {
  it('reads labels and subjects the way ../shared/video/videos.tsv writes them', () => {
    expect(labelIsLive('real (broadcast)', 'x')).toBe(true);
    expect(labelIsLive('fake', 'x')).toBe(false);
    expect(() => labelIsLive('maybe', 'row 3')).toThrow(/row 3/);
    expect(subjectOf({ relpath: 'a.mp4', content: 'one live man (subject_lestari15: moustache)' })).toBe('subject_lestari15');
    expect(subjectOf({ relpath: 'a.mp4', subject: 'bob' })).toBe('bob');
    expect(subjectOf({ relpath: 'dir/clip.mp4', source_repo: '' })).toBe('clip');
    const rows = [
      { relpath: 'live.mp4', source_repo: 'a/b', content: 'one live person (subject_x)' },
      { relpath: 'replay.mp4', source_repo: 'a/b', content: "same person's video on a phone" },
      { relpath: 'other.mp4', source_repo: 'c/d', content: 'press event' },
    ];
    expect(rows.map((r) => subjectOf(r, rows))).toEqual(['subject_x', 'subject_x', 'c/d']);
  });
});
