/**
 * eval --spoof-video on a list that is not ../shared's: crafted clips written to a temp folder
 * with a videos.tsv of only relpath and label (no subject or source columns), played through the
 * real loop on the simulated camera. The crafted person's live clip and phone clip are one
 * subject by file name, so each is enrolled from the other recording.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { livenessConfigSchema } from '../../../device/liveness/config.ts';
import { loadCalibration } from '../../../device/liveness/fusion.ts';
import { craftedClip } from '../../../scripts/pad/crafted.ts';
import { playLists, report } from '../../../scripts/eval/spoof-video.ts';
import { fixture, hasModels, makeEngine, skipReason } from '../../helpers.ts';

describe.skipIf(skipReason(hasModels, 'models/ missing'))('eval --spoof-video on any list in the videos.tsv format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portier-spoofvideo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports apcer, bpcer, attempts, decision time and a per-cue breakdown', async () => {
    for (const kind of ['live', 'phone'] as const) {
      const frames = await craftedClip({ portrait: fixture('grace_hopper.jpg'), kind, frames: 30, seed: 9 });
      writeFileSync(join(dir, `${kind}.mjpeg`), Buffer.concat(frames));
    }
    // A subject column ties the two recordings together (without one, each file is its own subject).
    writeFileSync(join(dir, 'videos.tsv'), 'relpath\tlabel\tsubject\nlive.mjpeg\treal\tgrace\nphone.mjpeg\tfake\tgrace\n');
    const engine = await makeEngine();
    try {
      const clips = await playLists(engine, [join(dir, 'videos.tsv')], { liveness: livenessConfigSchema.parse({}), calibration: loadCalibration(), attemptSeconds: 1.6, strideSeconds: 0.5 });
      expect(clips.map((c) => [c.clip, c.live, c.enrolledFrom])).toEqual([
        ['live.mjpeg', true, 'phone.mjpeg'],
        ['phone.mjpeg', false, 'live.mjpeg'],
      ]);
      const r = report(clips, loadCalibration(), 0, false).json;
      expect(r.attempts).toBeGreaterThanOrEqual(4);
      expect(r.apcer).toBe(0);
      expect(r.bpcer).toBe(0);
      expect(r.decision_p50_ms).toBeGreaterThanOrEqual(900);
      expect(r.decision_p50_ms).toBeLessThan(2000);
      expect(Object.keys(r.cues as object)).toEqual(expect.arrayContaining(['passive', 'screen_border']));
      // The enrolled person's live clip unlocked; the phone never did.
      const perClip = r.per_clip as { clip: string; granted: number }[];
      expect(perClip.find((c) => c.clip === 'live.mjpeg')!.granted).toBeGreaterThan(0);
      expect(perClip.find((c) => c.clip === 'phone.mjpeg')!.granted).toBe(0);
    } finally {
      await engine.close();
    }
  }, 120_000);
});
