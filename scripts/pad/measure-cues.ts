/**
 * Each PAD cue on its own, on labelled clips: per clip the distribution of per-frame scores and of
 * per-window features (one tracker per WINDOW frames, the attempt length the fusion sees), then
 * AUC (probability an attack scores above a live sample) per subject that has both classes, and
 * per attack clip against all live clips of the lists given (subjects with no live clip of their
 * own are only measurable that way). Cues here are measurements, higher = more attack-like.
 *
 *   npx tsx scripts/pad/measure-cues.ts --list ../shared/video/videos.tsv --list ../shared/spoof_more/videos.tsv
 *     [--cue screen_border --cue screen_artifacts] [--fps 15] [--window 15] [--all-rows]
 *
 * Rows that re-encode an already listed clip ("same as ...") are skipped unless --all-rows.
 */
import { auc } from '../eval/spoof.ts';
import { percentile } from '../eval/stats.ts';
import { defaultVisionConfig } from '../../core/vision/config.ts';
import { VisionEngine } from '../../core/vision/engine.ts';
import { screenArtifactsCue } from '../../core/vision/pad/artifacts.ts';
import { screenBorderCue } from '../../core/vision/pad/border.ts';
import { toGrey, type Cue, type CueTracker, type PadObservation } from '../../core/vision/pad/types.ts';
import { clipFrames, readClipList, type ClipEntry } from './clips.ts';

const CUES: Record<string, Cue> = { screen_border: screenBorderCue, screen_artifacts: screenArtifactsCue };

interface ClipScores {
  clip: ClipEntry;
  frames: number[];
  windows: number[];
  ms: number[];
}

function args(): { lists: string[]; cues: Cue[]; fps: number; window: number; allRows: boolean } {
  const a = process.argv.slice(2);
  const lists: string[] = [], names: string[] = [];
  let fps = 15, window = 15, allRows = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--list') lists.push(a[++i]);
    else if (a[i] === '--cue') names.push(a[++i]);
    else if (a[i] === '--fps') fps = Number(a[++i]);
    else if (a[i] === '--window') window = Number(a[++i]);
    else if (a[i] === '--all-rows') allRows = true;
    else throw new Error(`unknown argument ${a[i]}`);
  }
  if (!lists.length) throw new Error('usage: measure-cues.ts --list videos.tsv [--list ...] [--cue NAME ...]');
  const cues = (names.length ? names : Object.keys(CUES)).map((n) => CUES[n] ?? (() => { throw new Error(`unknown cue ${n}; known: ${Object.keys(CUES).join(', ')}`); })());
  return { lists, cues, fps, window, allRows };
}

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : ' n/a');
const summary = (s: number[]) => (s.length ? `p10 ${f2(percentile(s, 10))} p50 ${f2(percentile(s, 50))} p90 ${f2(percentile(s, 90))}` : 'no samples');

async function measure(engine: VisionEngine, clips: ClipEntry[], cues: Cue[], fps: number, window: number): Promise<Map<Cue, ClipScores[]>> {
  const out = new Map<Cue, ClipScores[]>(cues.map((c) => [c, []]));
  for (const clip of clips) {
    const per = cues.map((cue) => ({ cue, s: { clip, frames: [], windows: [], ms: [] } as ClipScores, win: cue.create() as CueTracker, n: 0 }));
    for await (const { img, face, ts } of clipFrames(engine, clip, fps)) {
      if (!face) continue;
      const obs: PadObservation = { ts, img, grey: toGrey(img), box: face.box, landmarks: face.landmarks, landmarks68: face.landmarks68, pose: face.pose };
      for (const p of per) {
        const one = p.cue.create();
        const t0 = performance.now();
        one.observe(obs);
        p.s.ms.push(performance.now() - t0);
        const v = one.feature();
        if (v !== undefined) p.s.frames.push(v);
        p.win.observe(obs);
        if (++p.n % window === 0 || clip.still) {
          const w = p.win.feature();
          if (w !== undefined) p.s.windows.push(w);
          p.win = p.cue.create();
        }
      }
    }
    for (const p of per) out.get(p.cue)!.push(p.s);
  }
  return out;
}

function report(cue: Cue, rows: ClipScores[]): void {
  console.log(`\n== ${cue.name} ==`);
  for (const r of rows) {
    console.log(`${r.clip.live ? 'live  ' : 'attack'} ${r.clip.subject.padEnd(20)} ${r.clip.name.slice(0, 44).padEnd(44)} n=${String(r.frames.length).padStart(3)}  frame ${summary(r.frames)} | window(${r.windows.length}) ${summary(r.windows)}`);
  }
  const live = rows.filter((r) => r.clip.live), attack = rows.filter((r) => !r.clip.live);
  const cat = (rs: ClipScores[], k: 'frames' | 'windows') => rs.flatMap((r) => r[k]);
  console.log('AUC, per subject with both live and attack material (frame / window):');
  for (const subject of [...new Set(rows.map((r) => r.clip.subject))]) {
    const l = live.filter((r) => r.clip.subject === subject), a = attack.filter((r) => r.clip.subject === subject);
    if (!l.length || !a.length) continue;
    console.log(`  ${subject.padEnd(20)} ${f2(auc(cat(a, 'frames'), cat(l, 'frames')))} / ${f2(auc(cat(a, 'windows'), cat(l, 'windows')))}`);
  }
  console.log('AUC, each attack subject against all live clips (frame / window):');
  for (const subject of [...new Set(attack.map((r) => r.clip.subject))]) {
    const a = attack.filter((r) => r.clip.subject === subject);
    console.log(`  ${subject.padEnd(20)} ${f2(auc(cat(a, 'frames'), cat(live, 'frames')))} / ${f2(auc(cat(a, 'windows'), cat(live, 'windows')))}`);
  }
  const ms = rows.flatMap((r) => r.ms);
  console.log(`cost per frame: p50 ${percentile(ms, 50).toFixed(3)} ms, p90 ${percentile(ms, 90).toFixed(3)} ms (includes JIT warm-up outliers)`);
}

async function main(): Promise<void> {
  const { lists, cues, fps, window, allRows } = args();
  const clips: ClipEntry[] = [];
  for (const l of lists) {
    const { clips: c, skipped } = readClipList(l, { dedupe: !allRows });
    if (skipped.length) console.log(`${l}: skipped re-encodings ${skipped.join(', ')}`);
    clips.push(...c);
  }
  const engine = await VisionEngine.create(defaultVisionConfig());
  const res = await measure(engine, clips, cues, fps, window);
  for (const [cue, rows] of res) report(cue, rows);
}

await main();
process.exit(0);
