import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { moirePeak, screenArtifactsCue, screenArtifactsDetail } from '../../../../core/vision/pad/artifacts.ts';
import { decodeImage, type RgbImage } from '../../../../core/vision/image.ts';
import { toGrey, type PadObservation } from '../../../../core/vision/pad/types.ts';
import type { Box } from '../../../../core/vision/geometry.ts';
import { fixture } from '../../../helpers.ts';

// Grace Hopper's face box in the 512x512 fixture (fr_detect).
const box: Box = [172, 112, 357, 317];
let face: RgbImage;

/** The same image with a faint screen-grid beat pattern (amplitude in grey levels). */
function withMoire(img: RgbImage, amp: number): RgbImage {
  const data = new Uint8Array(img.data);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const m = amp * Math.sin(2 * Math.PI * (0.21 * x + 0.07 * y));
      for (let c = 0; c < 3; c++) data[(y * img.width + x) * 3 + c] = Math.max(0, Math.min(255, data[(y * img.width + x) * 3 + c] + m));
    }
  }
  return { ...img, data };
}

const obs = (img: RgbImage) => ({ ts: 0, img, grey: toGrey(img), box, landmarks68: [], landmarks: [], pose: { yaw: 0, pitch: 0, roll: 0 } }) as unknown as PadObservation;

describe('screen_artifacts cue', () => {
  beforeAll(async () => {
    // The studio portrait is over-exposed (12% of the face at 250+); dimmed to a normally exposed face.
    const raw = await decodeImage(readFileSync(fixture('grace_hopper.jpg')));
    face = { ...raw, data: raw.data.map((v) => v * 0.9) };
  });

  it('is named for the fusion', () => expect(screenArtifactsCue.name).toBe('screen_artifacts'));

  it('finds a moiré peak that the clean face does not have', () => {
    const clean = moirePeak(toGrey(face), box);
    const moire = moirePeak(toGrey(withMoire(face, 8)), box);
    expect(moire - clean).toBeGreaterThan(Math.log(5));
    const t = screenArtifactsCue.create();
    t.observe(obs(face));
    const c = screenArtifactsCue.create();
    c.observe(obs(withMoire(face, 8)));
    expect(c.feature()! - t.feature()!).toBeGreaterThan(0.3);
  });

  it('scores a normally exposed portrait low', () => {
    expect(screenArtifactsDetail(face, toGrey(face), box).score).toBeLessThan(0.1);
  });

  it('reads a backlight blue cast on the face as display evidence', () => {
    const data = new Uint8Array(face.data);
    for (let i = 0; i < data.length; i += 3) {
      data[i] = data[i] * 0.6;
      data[i + 2] = Math.min(255, data[i + 2] * 1.4 + 30);
    }
    const blue = screenArtifactsDetail({ ...face, data }, toGrey({ ...face, data }), box);
    expect(blue.blueRatio).toBeGreaterThan(screenArtifactsDetail(face, toGrey(face), box).blueRatio);
    expect(blue.score).toBeGreaterThan(0.5);
  });

  it('reads clipped glare over the face as display evidence', () => {
    const data = new Uint8Array(face.data);
    const [x0, y0, x1, y1] = [220, 160, 310, 230];
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data.fill(255, (y * face.width + x) * 3, (y * face.width + x) * 3 + 3);
    expect(screenArtifactsDetail({ ...face, data }, toGrey({ ...face, data }), box).score).toBeGreaterThan(0.9);
  });

  it('has no evidence before any frame', () => expect(screenArtifactsCue.create().feature()).toBeUndefined());
});
