/**
 * Labelled PAD material for cue measurement: a `videos.tsv` (relpath, label, content, ...) or a
 * frame list like ../shared/spoof/labels.tsv (relpath, label, attack_type, subject). Clips are
 * decoded by ffmpeg at a fixed rate and streamed frame by frame (a 30 s clip would not fit in
 * memory as RGB); faces come from the VisionEngine and are cached on disk per file, because the
 * detector dominates the run time and cue parameters are iterated many times over the same frames.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { VisionEngine } from '../../core/vision/engine.ts';
import type { Box, HeadPose, Point } from '../../core/vision/geometry.ts';
import { decodeImage, type RgbImage } from '../../core/vision/image.ts';
import { readTsv } from '../eval/dataset.ts';

export interface ClipEntry {
  path: string;
  name: string;
  /** Bona fide when the label starts with "real". */
  live: boolean;
  subject: string;
  /** Single image (frame list) rather than a video. */
  still: boolean;
}

const IMAGE_EXT = /\.(jpe?g|png|bmp|webp)$/i;

/**
 * Subject of a row: the `subject` column, else a `subject_xxx` token in the content, else a token
 * of the file name that is some other row's subject (real_webcam_apfol -> apfol), else the stem.
 */
export function readClipList(file: string, opts: { dedupe?: boolean } = {}): { clips: ClipEntry[]; skipped: string[] } {
  const base = dirname(resolve(file));
  const rows = readTsv(file);
  const tagged = rows.map((r) => r.subject || /subject_([A-Za-z0-9-]+)/.exec(r.content ?? '')?.[0] || '');
  const known = new Set(tagged.filter(Boolean).map((s) => s.replace(/^subject_/, '').replace(/\d+$/, '')));
  const clips: ClipEntry[] = [];
  const skipped: string[] = [];
  rows.forEach((r, i) => {
    // "same as X, MJPEG" rows re-encode a clip already listed: counting them twice weights one subject double.
    if (opts.dedupe && /^same( as|,)/i.test(r.content ?? '')) return void skipped.push(r.relpath);
    const stem = basename(r.relpath).replace(/\.[^.]+$/, '');
    const token = stem.split(/[_.-]+/).find((t) => known.has(t.replace(/\d+$/, '')) || known.has(t));
    const subject = tagged[i] || (token ? `subject_${token}` : stem);
    clips.push({ path: resolve(base, r.relpath), name: r.relpath, live: /^real/i.test(r.label), subject, still: IMAGE_EXT.test(r.relpath) });
  });
  return { clips, skipped };
}

/** Stream RGB frames of a video at `fps` (raw .mjpeg streams are read as `fps` frames per second). */
export async function* videoFrames(path: string, fps = 15): AsyncGenerator<RgbImage> {
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  const [width, height] = probe.stdout.trim().split(',').map(Number);
  if (!width || !height) throw new Error(`ffprobe cannot read ${path}: ${probe.stderr}`);
  const input = /\.mjpe?g$/i.test(path) ? ['-f', 'mjpeg', '-framerate', String(fps), '-i', path] : ['-i', path, '-vf', `fps=${fps}`];
  const ff = spawn('ffmpeg', ['-v', 'error', ...input, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const size = width * height * 3;
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of ff.stdout as AsyncIterable<Buffer>) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= size) {
      yield { width, height, data: new Uint8Array(buf.subarray(0, size)) };
      buf = buf.subarray(size);
    }
  }
}

/** What the cues need of a detected face (no embeddings). */
export interface CachedFace {
  box: Box;
  landmarks: Point[];
  landmarks68: Point[];
  pose: HeadPose;
}

function cacheFile(path: string, fps: number): string {
  const st = statSync(path);
  const key = createHash('sha1').update(`${resolve(path)}|${st.size}|${st.mtimeMs}|${fps}|v1`).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'portier-pad-cache');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${key}.json`);
}

/**
 * Every frame of a clip with its primary face (undefined when none), faces from the cache when
 * this file was analysed before at this rate.
 */
export async function* clipFrames(engine: VisionEngine, clip: ClipEntry, fps = 15): AsyncGenerator<{ img: RgbImage; face?: CachedFace; ts: number }> {
  const cf = cacheFile(clip.path, fps);
  const cached: (CachedFace | null)[] | undefined = existsSync(cf) ? JSON.parse(readFileSync(cf, 'utf8')) : undefined;
  const found: (CachedFace | null)[] = [];
  const frames = clip.still ? stillFrame(clip.path) : videoFrames(clip.path, fps);
  let i = 0;
  for await (const img of frames) {
    let face = cached?.[i];
    if (face === undefined) {
      const a = await engine.analyze(img, { embed: 'none', liveness: false });
      const f = a.primary >= 0 ? a.faces[a.primary] : undefined;
      face = f ? { box: f.box, landmarks: f.landmarks, landmarks68: f.landmarks68, pose: f.pose } : null;
    }
    found.push(face);
    yield { img, face: face ?? undefined, ts: (i * 1000) / fps };
    i++;
  }
  if (!cached || cached.length !== found.length) writeFileSync(cf, JSON.stringify(found));
}

async function* stillFrame(path: string): AsyncGenerator<RgbImage> {
  // Phone photos are 4032x3024: the door camera sees 640x480-ish, and the cues are tuned at that scale.
  yield decodeImage(readFileSync(path), { maxSide: 800 });
}
