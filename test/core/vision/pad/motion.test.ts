import { describe, expect, it } from 'vitest';
import { rigidMotionCue, RigidMotionTracker } from '../../../../core/vision/pad/motion.ts';
import { toGrey, type GreyImage, type PadObservation } from '../../../../core/vision/pad/types.ts';
import { craftedSequence } from '../../../../scripts/pad/crafted.ts';
import { fixture, hasModels, makeEngine, skipReason } from '../../../helpers.ts';
import { headLandmarks, observation, texture } from './synthetic-face.ts';

const W = 320, H = 240;

/**
 * A textured face (ellipse) moving over a static textured room. `phone`: the face sits on a
 * screen 2.6 face widths wide whose content moves with it (a replay held by hand); otherwise the
 * face moves alone (a live head).
 */
function scene(phone: boolean, frames = 30): PadObservation[] {
  const room = texture(1, 6), face = texture(2, 4), screen = texture(3, 5);
  const out: PadObservation[] = [];
  for (let f = 0; f < frames; f++) {
    const t = f / 15;
    const dx = 14 * Math.sin(2 * Math.PI * t / 1.6), dy = 5 * Math.sin(2 * Math.PI * t / 1.1);
    const cx = W / 2 + dx, cy = H / 2 + dy;
    const data = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const u = x - cx, v = y - cy;
        let g = room(x, y);
        if (phone && Math.abs(u) < 80 && Math.abs(v) < 115) g = Math.abs(u) > 74 || Math.abs(v) > 108 ? 20 : screen(u + 500, v + 500);
        if ((u / 30) ** 2 + ((v - 4) / 38) ** 2 < 1) g = face(u + 500, v + 500);
        data[y * W + x] = g;
      }
    }
    const grey: GreyImage = { width: W, height: H, data };
    // Landmarks of a 60-px-wide frontal face following the same motion.
    out.push(observation(f * (1000 / 15), headLandmarks(0, cx, cy - 6, 0.42), { grey }));
  }
  return out;
}

function run(obs: PadObservation[]): RigidMotionTracker {
  const t = new RigidMotionTracker();
  for (const o of obs) t.observe(o);
  return t;
}

describe('rigid_motion cue on synthetic scenes', () => {
  it('reports a face moving with its screen as rigid', () => {
    const t = run(scene(true));
    expect(t.counts.tests).toBeGreaterThan(3);
    expect(t.feature()).toBeGreaterThan(0.8);
  });

  it('reports a face moving over a static room as not rigid', () => {
    const t = run(scene(false));
    expect(t.counts.tests).toBeGreaterThan(3);
    expect(t.feature()).toBeLessThan(0.2);
  });

  it('gives no evidence when the face does not move', () => {
    const still = scene(true, 20).map((o, i, a) => ({ ...o, grey: a[0].grey, landmarks68: a[0].landmarks68, box: a[0].box, ts: i * 66 }));
    const t = run(still);
    expect(t.counts.tests).toBe(0);
    expect(t.feature()).toBeUndefined();
  });

  it('is exposed as the rigid_motion cue', () => {
    const cue = rigidMotionCue();
    expect(cue.name).toBe('rigid_motion');
    const t = cue.create();
    for (const o of scene(true)) t.observe(o);
    expect(t.feature()).toBeGreaterThan(0.8);
  });
});

describe.skipIf(skipReason(hasModels, 'models/ absent: crafted clips need fr_detect/fr_landmark for the face track'))('rigid_motion cue on crafted clips', () => {
  async function feature(kind: 'phone' | 'live', seed: number): Promise<number | undefined> {
    const engine = await makeEngine();
    const { frames } = await craftedSequence({ portrait: fixture('grace_hopper.jpg'), kind, frames: 30, seed });
    const t = rigidMotionCue().create();
    for (let i = 0; i < frames.length; i++) {
      const a = await engine.analyze(frames[i], { embed: 'none', liveness: false });
      if (a.primary < 0) continue;
      const f = a.faces[a.primary];
      t.observe({ ts: i * (1000 / 15), img: frames[i], grey: toGrey(frames[i]), box: f.box, landmarks68: f.landmarks68, landmarks: f.landmarks, pose: f.pose });
    }
    return t.feature();
  }

  it('is high on a phone moved rigidly and low on a live head over the same room', async () => {
    const phone = await feature('phone', 1);
    const live = await feature('live', 1);
    console.log(`rigid_motion crafted: phone ${phone?.toFixed(2)}, live ${live?.toFixed(2)}`);
    expect(phone).toBeGreaterThan(0.6);
    expect(live).toBeLessThan(0.3);
  });
});
