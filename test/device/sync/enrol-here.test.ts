import { describe, expect, it } from 'vitest';
import type { Analysis, FaceResult } from '../../../core/vision/engine.ts';
import { defaultVisionConfig } from '../../../core/vision/config.ts';
import type { RgbImage } from '../../../core/vision/image.ts';
import type { Frame } from '../../../device/camera/types.ts';
import { createCaptureEnrolment, type EnrolEngine } from '../../../device/sync/enrol-here.ts';
import { embedding } from './fixtures.ts';

type Spec = { faces: { emb?: Float32Array; live?: number; ok?: boolean; sharp?: number }[] };

function face(s: Spec['faces'][number]): FaceResult {
  return {
    box: [0, 0, 100, 100],
    score: 0.99,
    landmarks: [],
    pose: { yaw: 0, pitch: 0, roll: 0 },
    quality: { ok: s.ok ?? true, reasons: s.ok === false ? ['blurry'] : [], size: 100, sharpness: s.sharp ?? 30, brightness: 120 },
    liveness: { score: s.live ?? 0.9, live: true, probs: [] },
    embedding: s.emb,
  } as unknown as FaceResult;
}

/** Frames carry their index; the fake engine answers from the script. */
function rig(script: Spec[], still?: Spec) {
  const config = defaultVisionConfig();
  let i = 0;
  const engine: EnrolEngine = {
    config,
    decode: async (buf) => ({ width: 1, height: 1, data: buf }) as unknown as RgbImage,
    analyze: async (img) => ({ width: 1, height: 1, primary: 0, faces: script[(img as unknown as { data: Buffer }).data[0]].faces.map(face) }) as Analysis,
    analyzeImage: async () => ({ width: 1, height: 1, primary: 0, faces: still!.faces.map(face) }) as Analysis,
  };
  const nextFrame = async (signal: AbortSignal): Promise<Frame> => {
    if (i >= script.length) {
      await new Promise((_, rej) => signal.addEventListener('abort', () => rej(new Error('aborted')), { once: true }));
    }
    const n = i++;
    return { data: Buffer.from([n]), format: 'jpeg', ts: Date.now(), seq: n };
  };
  return { engine, nextFrame, captureStill: still ? async () => Buffer.from([0]) : undefined };
}

const alice = embedding(1);
const bob = embedding(2);
const near = (e: Float32Array, k: number) => e.map((v, j) => v + (j === k ? 0.01 : 0));

describe('createCaptureEnrolment', () => {
  it('needs one live face over three consecutive frames and takes the best frame', async () => {
    const r = rig([
      { faces: [] },
      { faces: [{ emb: alice }] },
      { faces: [{ emb: alice }, { emb: bob }] }, // two people: start again
      { faces: [{ emb: near(alice, 1), sharp: 25 }] },
      { faces: [{ emb: near(alice, 2), sharp: 80 }] },
      { faces: [{ emb: near(alice, 3), sharp: 30 }] },
    ]);
    const got = await createCaptureEnrolment(r)({ timeoutMs: 2000 });
    expect(Array.from(got.embedding)).toEqual(Array.from(near(alice, 2)));
    expect(got.live).toBeCloseTo(0.9);
    expect(got.quality).toBe(1);
  });

  it('restarts when a different person steps in', async () => {
    const r = rig([{ faces: [{ emb: alice }] }, { faces: [{ emb: alice }] }, { faces: [{ emb: bob }] }, { faces: [{ emb: bob }] }, { faces: [{ emb: bob, sharp: 90 }] }]);
    const got = await createCaptureEnrolment(r)({ timeoutMs: 2000 });
    expect(Array.from(got.embedding)).toEqual(Array.from(bob));
  });

  it('uses the camera still when it shows the same person, not when it shows someone else', async () => {
    const run = [{ faces: [{ emb: alice }] }, { faces: [{ emb: alice }] }, { faces: [{ emb: alice }] }];
    const same = near(alice, 5);
    expect(Array.from((await createCaptureEnrolment(rig(run, { faces: [{ emb: same, sharp: 200 }] }))({ timeoutMs: 2000 })).embedding)).toEqual(Array.from(same));
    expect(Array.from((await createCaptureEnrolment(rig(run, { faces: [{ emb: bob }] }))({ timeoutMs: 2000 })).embedding)).toEqual(Array.from(alice));
  });

  it('refuses a face that is not live enough, saying so', async () => {
    const r = rig([{ faces: [{ emb: alice, live: 0.001 }] }, { faces: [{ emb: alice, live: 0.001 }] }, { faces: [{ emb: alice, live: 0.001 }] }]);
    await expect(createCaptureEnrolment(r)({ timeoutMs: 200 })).rejects.toThrow(/liveness too low/);
  });
});
