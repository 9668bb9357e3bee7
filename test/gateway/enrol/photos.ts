/** Test photos built from the two fixture portraits. */
import sharp from 'sharp';
import { fixture } from '../../helpers.ts';

/** Both portraits side by side: a photo with two good faces. */
export async function twoFaces(): Promise<Buffer> {
  const a = await sharp(fixture('grace_hopper.jpg')).resize({ height: 400 }).toBuffer();
  const b = await sharp(fixture('astronaut_eileen_collins.png')).resize({ height: 400 }).removeAlpha().toBuffer();
  const wa = (await sharp(a).metadata()).width!;
  const wb = (await sharp(b).metadata()).width!;
  return sharp({ create: { width: wa + wb, height: 400, channels: 3, background: '#808080' } })
    .composite([
      { input: a, left: 0, top: 0 },
      { input: b, left: wa, top: 0 },
    ])
    .jpeg()
    .toBuffer();
}
