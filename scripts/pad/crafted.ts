/**
 * Crafted presentation attacks and crafted live sequences from a fixture portrait, for PAD tests,
 * the end-to-end device test and tuning the scene cues without touching the real clips.
 *
 * Attack: the portrait (with its own background) shown inside a drawn phone (dark bezel, rounded
 * corners, fingers over one edge), monitor (bezel and stand) or print (white paper margin), over a
 * static textured room; the whole device moves rigidly (slow drift, small rotation, hand shake).
 * Live: the portrait's head and shoulders composited straight onto the same room, no border,
 * moving on its own (sway, slight scale and roll) while the room stays put.
 * Everything is seeded: the same options give byte-identical frames.
 *
 * CLI: npx tsx scripts/pad/crafted.ts --kind phone --out /tmp/x.mjpeg [--frames 45] [--seed 1]
 *      [--motion rigid|still] [--portrait test/fixtures/grace_hopper.jpg] [--width 640 --height 480]
 * writes a raw MJPEG (concatenated JPEG frames) the simulated camera can play.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { Box } from '../../core/vision/geometry.ts';
import type { RgbImage } from '../../core/vision/image.ts';
import { xorshift } from '../eval/rng.ts';
import { addNoise, clamp8, cover, ellipseSd, roomBackground, roundRectSd, sampleRgb } from './crafted-draw.ts';

export type CraftedKind = 'phone' | 'monitor' | 'print' | 'live';
export const CRAFTED_KINDS: CraftedKind[] = ['phone', 'monitor', 'print', 'live'];

export interface CraftedOptions {
  /** Path or encoded bytes (JPEG/PNG) of a frontal portrait. */
  portrait: string | Uint8Array;
  kind: CraftedKind;
  frames: number;
  width?: number;
  height?: number;
  fps?: number;
  motion?: 'rigid' | 'still';
  seed?: number;
  /** Face box in portrait pixels; known for the two fixtures, else a central guess. */
  portraitFace?: Box;
  /** Display moiré (faint aliasing stripes) on phone/monitor screens; default true. */
  moire?: boolean;
}

export interface CraftedSequence {
  frames: RgbImage[];
  /** Where the portrait's face box lands in each frame (axis-aligned hull of its corners). */
  faceBoxes: Box[];
}

/** Face boxes of the fixture portraits (fr_detect on the 512x512 originals). */
const KNOWN_FACES: Record<string, Box> = {
  'grace_hopper.jpg': [172, 112, 357, 317],
  'astronaut_eileen_collins.png': [180, 60, 270, 174],
};

/** Device geometry at a 480-pixel-high frame: screen size, bezel, corner radii, face share. */
interface DeviceSpec {
  screenW: number; screenH: number;
  bezelSide: number; bezelTop: number; bezelBottom: number;
  outerR: number; screenR: number;
  /** Face width as a share of screen width (0.45 = bezel ~0.6 face widths to each side). */
  faceShare: number;
  /** Face centre below the screen top, share of screen height. */
  faceY: number;
  bezelRgb: [number, number, number];
}

const DEVICES: Record<Exclude<CraftedKind, 'live'>, DeviceSpec> = {
  phone: { screenW: 200, screenH: 400, bezelSide: 9, bezelTop: 20, bezelBottom: 20, outerR: 26, screenR: 12, faceShare: 0.45, faceY: 0.33, bezelRgb: [22, 22, 26] },
  monitor: { screenW: 440, screenH: 300, bezelSide: 16, bezelTop: 16, bezelBottom: 26, outerR: 6, screenR: 1, faceShare: 0.28, faceY: 0.45, bezelRgb: [35, 35, 38] },
  print: { screenW: 218, screenH: 290, bezelSide: 16, bezelTop: 16, bezelBottom: 40, outerR: 2, screenR: 0.5, faceShare: 0.42, faceY: 0.4, bezelRgb: [238, 236, 228] },
};

interface Pose { tx: number; ty: number; theta: number; s: number }

/** Per-frame pose: slow drift + hand shake for a held device, sway + scale + roll for a head. */
function poses(n: number, fps: number, kind: CraftedKind, motion: 'rigid' | 'still', base: Pose, rng: () => number): Pose[] {
  const ph = Array.from({ length: 8 }, () => rng() * 2 * Math.PI);
  const deg = Math.PI / 180;
  const out: Pose[] = [];
  for (let i = 0; i < n; i++) {
    const t = i / fps;
    if (motion === 'still') {
      // A device on a stand or a person holding very still: sub-pixel jitter only.
      out.push({ ...base, tx: base.tx + 0.4 * Math.sin(7 * t + ph[0]), ty: base.ty + 0.4 * Math.sin(5 * t + ph[1]) });
    } else if (kind === 'live') {
      out.push({
        tx: base.tx + 22 * Math.sin((2 * Math.PI * t) / 2.7 + ph[0]) + 0.8 * Math.sin(2 * Math.PI * 4.1 * t + ph[1]),
        ty: base.ty + 8 * Math.sin((2 * Math.PI * t) / 1.9 + ph[2]),
        theta: base.theta + 4 * deg * Math.sin((2 * Math.PI * t) / 2.1 + ph[3]),
        s: base.s * (1 + 0.06 * Math.sin((2 * Math.PI * t) / 3.3 + ph[4])),
      });
    } else {
      const shakeX = 2 * Math.sin(2 * Math.PI * 3.1 * t + ph[5]) + 1.2 * Math.sin(2 * Math.PI * 5.3 * t + ph[6]);
      const shakeY = 1.6 * Math.sin(2 * Math.PI * 2.7 * t + ph[6]) + 1.0 * Math.sin(2 * Math.PI * 6.1 * t + ph[7]);
      out.push({
        tx: base.tx + 28 * Math.sin((2 * Math.PI * t) / 3.1 + ph[0]) + shakeX,
        ty: base.ty + 10 * Math.sin((2 * Math.PI * t) / 2.3 + ph[1]) + shakeY,
        theta: base.theta + 3 * deg * Math.sin((2 * Math.PI * t) / 2.6 + ph[2]) + 0.6 * deg * Math.sin(2 * Math.PI * 2.3 * t + ph[3]),
        s: base.s * (1 + 0.04 * Math.sin((2 * Math.PI * t) / 3.7 + ph[4])),
      });
    }
  }
  return out;
}

/** Frame -> layer-local coordinates (inverse of rotate-scale-translate). */
const toLocal = (p: Pose, x: number, y: number): [number, number] => {
  const dx = x - p.tx, dy = y - p.ty, c = Math.cos(p.theta), s = Math.sin(p.theta);
  return [(c * dx + s * dy) / p.s, (-s * dx + c * dy) / p.s];
};
const toFrame = (p: Pose, u: number, v: number): [number, number] => {
  const c = Math.cos(p.theta), s = Math.sin(p.theta);
  return [p.tx + p.s * (c * u - s * v), p.ty + p.s * (s * u + c * v)];
};

function hullBox(p: Pose, corners: [number, number][]): Box {
  const pts = corners.map(([u, v]) => toFrame(p, u, v));
  const xs = pts.map((q) => q[0]), ys = pts.map((q) => q[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/** Renders the frames (raw RGB) and where the face lands; craftedClip() encodes them. */
export async function craftedSequence(opts: CraftedOptions): Promise<CraftedSequence> {
  const { kind, frames: n, width = 640, height = 480, fps = 15, motion = 'rigid', seed = 1, moire = true } = opts;
  const buf = typeof opts.portrait === 'string' ? readFileSync(opts.portrait) : opts.portrait;
  const { data, info } = await sharp(buf).removeAlpha().toColorspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const portrait: RgbImage = { width: info.width, height: info.height, data: new Uint8Array(data) };
  const face = opts.portraitFace ?? (typeof opts.portrait === 'string' ? KNOWN_FACES[basename(opts.portrait)] : undefined)
    ?? ([0.3 * portrait.width, 0.2 * portrait.height, 0.7 * portrait.width, 0.65 * portrait.height] as Box);
  const fcx = (face[0] + face[2]) / 2, fcy = (face[1] + face[3]) / 2, fw = face[2] - face[0], fh = face[3] - face[1];

  const rng = xorshift(seed * 2654435761 + CRAFTED_KINDS.indexOf(kind) + 1);
  const room = roomBackground(width, height, seed);
  const unit = height / 480;
  const base: Pose = { tx: width / 2 + (rng() - 0.5) * 60 * unit, ty: height * 0.42, theta: (rng() - 0.5) * 6 * (Math.PI / 180), s: unit };
  const track = poses(n, fps, kind, motion, base, rng);
  const moirePhase = rng() * 2 * Math.PI;
  const handSide = rng() < 0.5 ? -1 : 1;

  // Layer-local frame: origin at the face centre, 1 unit = 1 pixel at a 480-high frame.
  let k: number; // portrait pixels per layer unit
  let dev: DeviceSpec | undefined;
  let screen = { x0: 0, y0: 0, x1: 0, y1: 0 };
  if (kind === 'live') {
    k = fw / 110;
  } else {
    dev = DEVICES[kind];
    k = fw / (dev.faceShare * dev.screenW);
    const y0 = -dev.faceY * dev.screenH;
    screen = { x0: -dev.screenW / 2, y0, x1: dev.screenW / 2, y1: y0 + dev.screenH };
  }
  const sc = { cx: (screen.x0 + screen.x1) / 2, cy: (screen.y0 + screen.y1) / 2, hw: (screen.x1 - screen.x0) / 2, hh: (screen.y1 - screen.y0) / 2 };
  const outer = dev && {
    cx: sc.cx, cy: sc.cy + (dev.bezelBottom - dev.bezelTop) / 2,
    hw: sc.hw + dev.bezelSide, hh: sc.hh + (dev.bezelTop + dev.bezelBottom) / 2,
  };
  // Face in layer units (the live head is 110 wide): head and shoulders mask for live.
  const lfw = fw / k, lfh = fh / k;
  const px = new Float32Array(3);
  const out: RgbImage[] = [];
  const boxes: Box[] = [];
  for (let f = 0; f < n; f++) {
    const p = track[f];
    const frame: RgbImage = { width, height, data: new Uint8Array(room.data) };
    const d = frame.data;
    // Only visit the layer's bounding box (device + fingers, or head and torso down to the frame bottom).
    const bb = outer
      ? hullBox(p, [[outer.cx - outer.hw - 40, outer.cy - outer.hh - 2], [outer.cx + outer.hw + 40, outer.cy - outer.hh - 2], [outer.cx - outer.hw - 40, outer.cy + outer.hh + 2], [outer.cx + outer.hw + 40, outer.cy + outer.hh + 2]])
      : hullBox(p, [[-lfw, -lfh], [lfw, -lfh], [-1.8 * lfw, 1.5 * lfh], [1.8 * lfw, 1.5 * lfh]]);
    const xa = outer ? Math.max(0, Math.floor(bb[0])) : 0, xb = outer ? Math.min(width, Math.ceil(bb[2]) + 1) : width;
    const ya = Math.max(0, Math.floor(bb[1])), yb = outer ? Math.min(height, Math.ceil(bb[3]) + 1) : height;
    for (let y = ya; y < yb; y++) {
      for (let x = xa; x < xb; x++) {
        const [u, v] = toLocal(p, x, y);
        let a: number; // coverage of the layer at this pixel
        let r = 0, g = 0, b = 0;
        if (!dev || !outer) {
          const head = ellipseSd(u, v, 0, -0.1 * lfh, 0.64 * lfw, 0.76 * lfh);
          const neck = roundRectSd(u, v - 0.75 * lfh, 0.3 * lfw, 0.4 * lfh, 0.1 * lfw);
          // Torso widening downwards (arms), so its sides are not a pair of parallel verticals.
          const body = v > 1.5 * lfh ? Math.abs(u) - 1.7 * lfw - 0.3 * (v - 1.5 * lfh) : ellipseSd(u, v, 0, 1.5 * lfh, 1.7 * lfw, 0.55 * lfh);
          a = cover(Math.min(head, neck, body) * p.s);
          if (a <= 0) continue;
          sampleRgb(portrait, fcx + u * k, fcy + v * k, px);
          [r, g, b] = px;
        } else {
          a = cover(roundRectSd(u - outer.cx, v - outer.cy, outer.hw, outer.hh, dev.outerR) * p.s);
          if (a <= 0) continue;
          const inScreen = cover(roundRectSd(u - sc.cx, v - sc.cy, sc.hw, sc.hh, dev.screenR) * p.s);
          [r, g, b] = dev.bezelRgb;
          if (kind !== 'print') {
            // Bezel sheen: a slightly lighter rim so the outline reads as a device, not a hole.
            const rim = Math.max(0, 1 - Math.abs(roundRectSd(u - outer.cx, v - outer.cy, outer.hw, outer.hh, dev.outerR) + 1.5));
            r += 25 * rim; g += 25 * rim; b += 28 * rim;
          }
          if (inScreen > 0) {
            sampleRgb(portrait, fcx + u * k, fcy + v * k, px);
            let [sr, sg, sb] = px;
            if (kind === 'print') {
              // Paper: lower contrast, a little desaturated and warm.
              const l = 0.3 * sr + 0.59 * sg + 0.11 * sb;
              sr = 25 + 0.82 * (0.85 * sr + 0.15 * l); sg = 22 + 0.8 * (0.85 * sg + 0.15 * l); sb = 15 + 0.76 * (0.85 * sb + 0.15 * l);
            } else {
              // Emissive screen: lifted blacks, blue shift, diagonal glare, faint moiré.
              const glare = 14 * Math.max(0, 1 - Math.abs(0.6 * u + 0.8 * v - 40) / 70);
              const m = moire ? 5 * Math.sin(2 * Math.PI * (0.21 * x + 0.07 * y) + moirePhase) : 0;
              sr = 14 + 0.9 * sr + glare + m; sg = 16 + 0.92 * sg + glare + m; sb = 26 + 0.95 * sb + glare + m;
            }
            r += (sr - r) * inScreen; g += (sg - g) * inScreen; b += (sb - b) * inScreen;
          }
          if (kind === 'phone') {
            // Fingers over one side edge and a thumb on the other, moving with the phone.
            const ex = handSide * (outer.hw + 6);
            let hand = Infinity;
            for (let j = 0; j < 3; j++) hand = Math.min(hand, ellipseSd(u, v, ex, sc.cy + 90 + j * 34, 22, 14));
            hand = Math.min(hand, ellipseSd(u, v, -handSide * (outer.hw + 4), sc.cy + 120, 16, 26));
            const ha = cover(hand * p.s);
            if (ha > 0) {
              const shade = 0.85 + 0.15 * Math.sin(v * 0.1);
              r += (200 * shade - r) * ha; g += (148 * shade - g) * ha; b += (118 * shade - b) * ha;
              a = Math.max(a, ha);
            }
          }
        }
        const i = (y * width + x) * 3;
        d[i] = clamp8(d[i] + (r - d[i]) * a);
        d[i + 1] = clamp8(d[i + 1] + (g - d[i + 1]) * a);
        d[i + 2] = clamp8(d[i + 2] + (b - d[i + 2]) * a);
      }
    }
    addNoise(frame, 3, rng);
    out.push(frame);
    const fx0 = (face[0] - fcx) / k, fx1 = (face[2] - fcx) / k, fy0 = (face[1] - fcy) / k, fy1 = (face[3] - fcy) / k;
    boxes.push(hullBox(p, [[fx0, fy0], [fx1, fy0], [fx0, fy1], [fx1, fy1]]));
  }
  return { frames: out, faceBoxes: boxes };
}

/** JPEG frames of a crafted clip (quality 88, like a webcam's MJPEG). */
export async function craftedClip(opts: CraftedOptions): Promise<Buffer[]> {
  const { frames } = await craftedSequence(opts);
  return Promise.all(
    frames.map((f) => sharp(Buffer.from(f.data.buffer, f.data.byteOffset, f.data.length), { raw: { width: f.width, height: f.height, channels: 3 } }).jpeg({ quality: 88 }).toBuffer()),
  );
}

function parseArgs(argv: string[]): Record<string, string> {
  const a: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) if (argv[i].startsWith('--')) a[argv[i].slice(2)] = argv[++i] ?? '';
  return a;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const kind = (a.kind ?? 'phone') as CraftedKind;
  if (!CRAFTED_KINDS.includes(kind) || !a.out) {
    console.error(`usage: crafted.ts --kind ${CRAFTED_KINDS.join('|')} --out FILE.mjpeg [--frames N] [--seed S] [--motion rigid|still] [--portrait FILE] [--width W --height H --fps F]`);
    process.exit(2);
  }
  const portrait = a.portrait ?? fileURLToPath(new URL('../../test/fixtures/grace_hopper.jpg', import.meta.url));
  const jpegs = await craftedClip({
    portrait, kind, frames: Number(a.frames ?? 45), seed: Number(a.seed ?? 1),
    motion: (a.motion ?? 'rigid') as 'rigid' | 'still',
    width: Number(a.width ?? 640), height: Number(a.height ?? 480), fps: Number(a.fps ?? 15),
  });
  writeFileSync(a.out, Buffer.concat(jpegs));
  console.log(`${a.out}: ${jpegs.length} ${kind} frames`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
