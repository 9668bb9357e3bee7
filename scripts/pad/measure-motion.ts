/**
 * Measures the motion-based PAD cues (rigid_motion, blink, and mouth movement as a candidate) on
 * their own, over clip lists in the videos.tsv format:
 *
 *   npx tsx scripts/pad/measure-motion.ts ../shared/video/videos.tsv ../shared/spoof_more/videos.tsv [--window-ms 1000] [--fps 15] [--cache DIR] [--json]
 *
 * Each clip is decoded at --fps, the primary face found with the vision engine, and each cue fed
 * per non-overlapping window (one decision's worth of frames) and over the whole clip. Reported
 * per subject: the window feature distributions of live and attack, the AUC within the subject,
 * and leave-one-subject-out error rates (the threshold is the equal-error point of the other
 * subjects' windows, applied to the held-out one). Windows where a cue had no evidence are
 * counted apart: the fusion treats them as neutral.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Box, HeadPose, Point } from '../../core/vision/geometry.ts';
import { defaultVisionConfig } from '../../core/vision/config.ts';
import { VisionEngine } from '../../core/vision/engine.ts';
import { blinkCue } from '../../core/vision/pad/blink.ts';
import { rigidMotionCue } from '../../core/vision/pad/motion.ts';
import type { RgbImage } from '../../core/vision/image.ts';
import { toGrey, type Cue, type CueTracker, type GreyImage, type PadObservation } from '../../core/vision/pad/types.ts';
import { auc, equalErrorThreshold, errorRates } from '../eval/spoof.ts';
import { percentile } from '../eval/stats.ts';
import { readClipList, videoFrames, type ClipEntry } from './clips.ts';
import { mouthCue } from './mouth-cue.ts';

interface Measured {
  name: string;
  cue: Cue;
  /** Which way a live face scores: rigid motion is low for live faces, blinks high. */
  liveHigh: boolean;
}

const CUES: Measured[] = [
  { name: 'rigid_motion', cue: rigidMotionCue(), liveHigh: false },
  { name: 'blink', cue: blinkCue(), liveHigh: true },
  { name: 'mouth_motion', cue: mouthCue, liveHigh: true },
];

interface Sample {
  subject: string;
  clip: string;
  live: boolean;
  value?: number;
}

function parseArgs(argv: string[]) {
  const lists: string[] = [];
  const o = { windowMs: 1000, fps: 15, cache: undefined as string | undefined, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--window-ms') o.windowMs = Number(argv[++i]);
    else if (a === '--fps') o.fps = Number(argv[++i]);
    else if (a === '--cache') o.cache = argv[++i];
    else if (a === '--json') o.json = true;
    else lists.push(a);
  }
  if (!lists.length) throw new Error('usage: measure-motion.ts <videos.tsv>... [--window-ms 1000] [--fps 15] [--cache DIR] [--json]');
  return { lists, ...o };
}

interface FaceFrame {
  box: Box;
  landmarks68: Point[];
  landmarks: Point[];
  pose: HeadPose;
  eyesOpen?: [number, number];
}

/** Faces with eye openness (clips.ts caches faces without it), cached per clip in --cache DIR. */
function faceCache(dir: string | undefined, clip: ClipEntry, fps: number) {
  const file = dir && join(dir, `${basename(clip.path)}.${statSync(clip.path).size}.${fps}.json`);
  const cached: (FaceFrame | null)[] | undefined = file && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  const found: (FaceFrame | null)[] = [];
  return {
    async face(engine: VisionEngine, img: RgbImage, i: number): Promise<FaceFrame | undefined> {
      let f = cached?.[i];
      if (f === undefined) {
        const a = await engine.analyze(img, { embed: 'none', liveness: false, eyes: true });
        const p = a.primary >= 0 ? a.faces[a.primary] : undefined;
        f = p ? { box: p.box, landmarks68: p.landmarks68, landmarks: p.landmarks, pose: p.pose, eyesOpen: p.eyesOpen } : null;
      }
      found.push(f);
      return f ?? undefined;
    },
    save() {
      if (!file || (cached && cached.length === found.length)) return;
      mkdirSync(dir!, { recursive: true });
      writeFileSync(file, JSON.stringify(found));
    },
  };
}

async function measureClip(engine: VisionEngine, clip: ClipEntry, o: ReturnType<typeof parseArgs>, windows: Map<string, Sample[]>, clips: Map<string, Sample[]>, costs: number[]) {
  const cache = faceCache(o.cache, clip, o.fps);
  const whole = CUES.map((c) => c.cue.create());
  let win: CueTracker[] = [];
  let winStart = -Infinity;
  const sample = (t: CueTracker): Sample => ({ subject: clip.subject, clip: clip.name, live: clip.live, value: t.feature() });
  const flush = () => win.length && CUES.forEach((c, k) => windows.get(c.name)!.push(sample(win[k])));
  let grey: GreyImage | undefined;
  let i = 0;
  for await (const img of videoFrames(clip.path, o.fps)) {
    const ts = (i * 1000) / o.fps;
    const f = await cache.face(engine, img, i++);
    if (!f) continue;
    if (ts - winStart >= o.windowMs) {
      flush();
      win = CUES.map((c) => c.cue.create());
      winStart = ts;
    }
    grey = toGrey(img, grey);
    const obs: PadObservation = { ts, img, grey, box: f.box, landmarks68: f.landmarks68, landmarks: f.landmarks, pose: f.pose, eyesOpen: f.eyesOpen };
    // CPU time, not wall time: the measuring machine is shared and wall time counts other processes.
    const c0 = process.cpuUsage();
    whole[0].observe(obs);
    const c = process.cpuUsage(c0);
    costs.push((c.user + c.system) / 1000);
    for (const t of whole.slice(1)) t.observe(obs);
    for (const t of win) t.observe(obs);
  }
  cache.save();
  flush();
  CUES.forEach((c, k) => clips.get(c.name)!.push(sample(whole[k])));
}

/**
 * Equal-error threshold moved halfway to the next lower score: the exact equal-error score sits
 * on a training sample (often a bare 0 here), which makes any held-out value next to it flip.
 */
function midpointThreshold(samples: { live: boolean; score?: number }[]): number {
  const { threshold } = equalErrorThreshold(samples);
  const below = samples.map((s) => s.score!).filter((v) => v < threshold);
  return below.length ? (threshold + Math.max(...below)) / 2 : threshold;
}

const fmt = (v: number | undefined, d = 2) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));

function summarise(name: string, liveHigh: boolean, samples: Sample[]) {
  const score = (s: Sample) => (s.value === undefined ? undefined : liveHigh ? s.value : -s.value);
  const subjects = [...new Set(samples.map((s) => s.subject))];
  const dist = (xs: Sample[]) => {
    const v = xs.filter((s) => s.value !== undefined).map((s) => s.value!);
    return { n: xs.length, defined: v.length, p10: v.length ? percentile(v, 10) : undefined, median: v.length ? percentile(v, 50) : undefined, p90: v.length ? percentile(v, 90) : undefined };
  };
  const per = subjects.map((subject) => {
    const mine = samples.filter((s) => s.subject === subject);
    const others = samples.filter((s) => s.subject !== subject && s.value !== undefined).map((s) => ({ live: s.live, score: score(s) }));
    const defined = mine.filter((s) => s.value !== undefined);
    const live = defined.filter((s) => s.live).map((s) => score(s)!);
    const attack = defined.filter((s) => !s.live).map((s) => score(s)!);
    const threshold = midpointThreshold(others);
    // Windows without evidence are left out here: they neither accept nor refuse.
    const loso = errorRates(defined.map((s) => ({ live: s.live, score: score(s) })), threshold);
    // Against the other subjects' windows of the other class: the only figure for a subject recorded in one class.
    const allLive = samples.filter((s) => s.live && s.value !== undefined && s.subject !== subject).map((s) => score(s)!);
    const allAttack = samples.filter((s) => !s.live && s.value !== undefined && s.subject !== subject).map((s) => score(s)!);
    const cross = auc(live.length ? live : allLive, attack.length ? attack : allAttack);
    const aucVsOthers = live.length && attack.length ? auc([...live, ...allLive], [...attack, ...allAttack]) : cross;
    return { subject, live: dist(mine.filter((s) => s.live)), attack: dist(mine.filter((s) => !s.live)), auc: auc(live, attack), aucVsOthers, losoThreshold: liveHigh ? threshold : -threshold, ...loso };
  });
  const d = samples.filter((s) => s.value !== undefined);
  const pooledAuc = auc(d.filter((s) => s.live).map((s) => score(s)!), d.filter((s) => !s.live).map((s) => score(s)!));
  return { cue: name, pooledAuc, subjects: per };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const cfg = defaultVisionConfig();
  cfg.modelDir = join(import.meta.dirname, '../../models');
  const engine = await VisionEngine.create(cfg);
  const windows = new Map(CUES.map((c) => [c.name, [] as Sample[]]));
  const clips = new Map(CUES.map((c) => [c.name, [] as Sample[]]));
  const costs: number[] = [];
  for (const list of o.lists) for (const clip of readClipList(list, { dedupe: true }).clips) if (!clip.still) await measureClip(engine, clip, o, windows, clips, costs);
  const report = {
    windowMs: o.windowMs,
    fps: o.fps,
    costMs: { mean: costs.reduce((a, b) => a + b, 0) / costs.length, p50: percentile(costs, 50), p99: percentile(costs, 99), frames: costs.length },
    cues: CUES.map((c) => ({ ...summarise(c.name, c.liveHigh, windows.get(c.name)!), clips: clips.get(c.name)!.map((s) => ({ clip: s.clip, subject: s.subject, live: s.live, value: s.value })) })),
  };
  if (o.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  console.log(`rigid_motion CPU per frame: mean ${fmt(report.costMs.mean, 3)} ms, p50 ${fmt(report.costMs.p50, 3)}, p99 ${fmt(report.costMs.p99, 3)} (${costs.length} frames; a test frame costs the p99, other frames almost nothing)`);
  for (const c of report.cues) {
    console.log(`\n${c.cue}: ${o.windowMs} ms windows, pooled AUC ${fmt(c.pooledAuc)} (1 = separates live from attack)`);
    console.log('  subject            live n/def  p10  med  p90 | attack n/def  p10  med  p90 |  AUC  AUC* | LOSO thr  APCER BPCER');
    for (const s of c.subjects) {
      const part = (x: typeof s.live) => `${String(x.n).padStart(4)}/${String(x.defined).padEnd(4)} ${fmt(x.p10)} ${fmt(x.median)} ${fmt(x.p90)}`;
      console.log(`  ${s.subject.padEnd(18)} ${part(s.live)} | ${part(s.attack)} | ${fmt(s.auc).padStart(4)} ${fmt(s.aucVsOthers).padStart(5)} | ${fmt(s.losoThreshold, 3).padStart(8)} ${fmt(s.apcer).padStart(6)} ${fmt(s.bpcer).padStart(5)}`);
    }
    console.log('  AUC: within the subject; AUC*: with the other subjects\' windows of the class it lacks (or all, when it has both)');
    console.log('  whole clips: ' + c.clips.map((s) => `${s.clip}=${fmt(s.value)}`).join('  '));
  }
}

await main();
// The engine's worker threads would keep the process alive.
process.exit(0);
