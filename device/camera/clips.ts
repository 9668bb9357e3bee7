/**
 * Frame sources for the simulated camera. A clip hands out its JPEG frames in order, afresh on
 * each play; nothing here paces frames (the camera does).
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { MjpegSplitter, splitMjpeg } from './mjpeg.ts';

export interface Clip {
  readonly name: string;
  play(): AsyncGenerator<Buffer>;
}

export type ClipKind = 'folder' | 'mjpeg' | 'video' | 'scenario';

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp']);

export async function detectClipKind(path: string): Promise<ClipKind> {
  const st = await stat(path);
  if (st.isDirectory()) return 'folder';
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'scenario';
  if (ext === '.mjpeg' || ext === '.mjpg') return 'mjpeg';
  return 'video';
}

/** Images of a folder in natural order (2.jpg before 10.jpg); PNG/WebP are converted to JPEG once. */
export async function folderClip(dir: string): Promise<Clip> {
  const names = (await readdir(dir))
    .filter((n) => IMAGE_EXT.has(extname(n).toLowerCase()))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (names.length === 0) throw new Error(`simulated camera: no images (.jpg, .png, .webp) in ${dir}`);
  const frames: Buffer[] = [];
  for (const n of names) {
    const data = await readFile(join(dir, n));
    const isJpeg = data[0] === 0xff && data[1] === 0xd8;
    if (isJpeg) frames.push(data);
    else {
      const sharp = (await import('sharp')).default;
      frames.push(await sharp(data).jpeg({ quality: 90 }).toBuffer());
    }
  }
  return { name: dir, play: () => fromArray(frames) };
}

export async function mjpegClip(file: string): Promise<Clip> {
  const { frames } = splitMjpeg(await readFile(file));
  if (frames.length === 0) throw new Error(`simulated camera: no JPEG frames in ${file}`);
  return { name: file, play: () => fromArray(frames) };
}

/** ffmpeg decodes and re-encodes at the wanted rate; reading stdout lazily gives backpressure. */
export function videoClip(file: string, fps: number, ffmpegPath = 'ffmpeg'): Clip {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-an', '-vf', `fps=${fps}`, '-f', 'mjpeg', '-q:v', '3', 'pipe:1'];
  return {
    name: file,
    async *play() {
      const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-1000)));
      const exited = new Promise<number | null>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code) => resolve(code));
      });
      exited.catch(() => undefined);
      const splitter = new MjpegSplitter();
      let produced = 0;
      try {
        for await (const chunk of child.stdout) {
          for (const f of splitter.push(chunk as Buffer)) {
            produced++;
            yield f;
          }
        }
        const code = await exited;
        if (code !== 0 && produced === 0) throw new Error(`ffmpeg failed on ${file} (code ${code}): ${stderr.trim()}`);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      }
    },
  };
}

async function* fromArray(frames: Buffer[]): AsyncGenerator<Buffer> {
  for (const f of frames) yield f;
}
