/**
 * Plays one clip through the real recognition loop on the simulated camera, as several
 * approaches: the clip is cut into segments of `attemptSeconds`, played with a pause longer than
 * the tracker's timeout between them, so every segment is a new track with its own liveness
 * decision (and, when the person is enrolled, its own access decision).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VisionEngine } from '../../core/vision/engine.ts';
import { cameraConfigSchema } from '../../device/camera/config.ts';
import { detectClipKind, mjpegClip, videoClip } from '../../device/camera/clips.ts';
import { SimulatedCamera } from '../../device/camera/simulated.ts';
import { galleryConfigSchema } from '../../device/gallery/config.ts';
import { Gallery } from '../../device/gallery/gallery.ts';
import type { LivenessConfig } from '../../device/liveness/config.ts';
import { enabledCues } from '../../device/liveness/cues.ts';
import type { Calibration } from '../../device/liveness/fusion.ts';
import { policyConfigSchema } from '../../device/policy/config.ts';
import { recognitionConfigSchema } from '../../device/recognition/config.ts';
import { RecognitionLoop, type DecisionEvent, type LivenessEvent } from '../../device/recognition/loop.ts';

export const EVAL_FPS = 15;

/** Every frame of a clip (.mjpeg as is, anything else through ffmpeg at `fps`). */
export async function clipFrames(path: string, fps = EVAL_FPS): Promise<Buffer[]> {
  const kind = await detectClipKind(path);
  if (kind !== 'mjpeg' && kind !== 'video') throw new Error(`${path}: a clip list entry must be a video or .mjpeg file`);
  const clip = kind === 'mjpeg' ? await mjpegClip(path) : videoClip(path, fps);
  const out: Buffer[] = [];
  for await (const f of clip.play()) out.push(f);
  return out;
}

/** The embedding of the best enrolment face among `frames` (largest face passing quality), sampled every `step` frames. */
export async function enrolmentEmbedding(engine: VisionEngine, frames: Buffer[], step = 5): Promise<Float32Array | undefined> {
  let best: { size: number; emb: Float32Array } | undefined;
  for (let i = 0; i < frames.length; i += step) {
    const a = await engine.analyzeImage(frames[i], { embed: 'primary', liveness: false });
    const f = a.faces[a.primary];
    if (!f?.embedding || !f.quality.ok) continue;
    if (!best || f.quality.size > best.size) best = { size: f.quality.size, emb: f.embedding };
  }
  return best?.emb;
}

export interface ClipAttempt {
  segment: number;
  /** The approach's liveness decision; undefined when no face was tracked long enough. */
  liveness?: Pick<LivenessEvent, 'live' | 'logOdds' | 'bar' | 'features' | 'contributions' | 'failed' | 'frames' | 'elapsedMs' | 'votes'>;
  /** First sighting to the liveness decision, ms. */
  decisionMs?: number;
  access?: { granted: boolean; reason: string; ms: number };
}

export interface RunClipOptions {
  engine: VisionEngine;
  frames: Buffer[];
  /** Embedding the clip's person is enrolled with (from another recording), if any. */
  enrol?: Float32Array;
  liveness: LivenessConfig;
  calibration: Calibration;
  /** Length of one approach's segment, s. */
  attemptSeconds: number;
  /** Start of one segment to the next, s (less than attemptSeconds: overlapping approaches). */
  strideSeconds?: number;
  fps?: number;
}

export async function runClip(o: RunClipOptions): Promise<ClipAttempt[]> {
  const fps = o.fps ?? EVAL_FPS;
  const per = Math.max(1, Math.round(o.attemptSeconds * fps));
  const stride = Math.max(1, Math.round((o.strideSeconds ?? o.attemptSeconds) * fps));
  // A segment too short to complete an approach would only add "no decision" rows.
  const minFrames = Math.ceil(((o.liveness.attemptMs + 300) / 1000) * fps);
  const segments: Buffer[][] = [];
  for (let i = 0; i + minFrames <= o.frames.length; i += stride) segments.push(o.frames.slice(i, i + per));
  if (!segments.length) return [];
  const dir = mkdtempSync(join(tmpdir(), 'portier-eval-'));
  try {
    // A short track timeout lets a short pause between segments end every track.
    const recognition = recognitionConfigSchema.parse({ door: 'eval', trackTimeoutMs: 400 });
    const steps: unknown[] = [];
    segments.forEach((seg, i) => {
      writeFileSync(join(dir, `${i}.mjpeg`), Buffer.concat(seg));
      steps.push({ clip: `${i}.mjpeg` }, { idle: (recognition.trackTimeoutMs + 300) / 1000 });
    });
    writeFileSync(join(dir, 'scenario.json'), JSON.stringify(steps));
    const camera = new SimulatedCamera(cameraConfigSchema.parse({ type: 'simulated', fps, simulated: { source: join(dir, 'scenario.json'), kind: 'scenario', loop: false } }));
    const gallery = new Gallery(galleryConfigSchema.parse({ maxTemplates: 64, kernel: { type: 'js', threads: 1 } }));
    if (o.enrol) gallery.addTemplate('subject', o.enrol);
    // Every enabled cue runs (weighted or not), so a refit can use all their features.
    const cues = enabledCues(o.liveness, 'rgb');
    const loop = new RecognitionLoop({
      camera,
      engine: o.engine,
      gallery,
      config: recognition,
      policy: policyConfigSchema.parse({ unscheduledAccess: 'all' }),
      person: (id) => ({ id }),
      groups: () => ({}),
      act: async () => {},
      liveness: { config: o.liveness, calibration: o.calibration, cues, eyes: cues.some((c) => c.name === 'blink') },
    });
    // Segment of a track: tracks start in segment order, and each segment's idle gap ends them.
    const seen: { live?: LivenessEvent; access?: DecisionEvent; firstSeen: number }[] = [];
    const byTrack = new Map<number, number>();
    const slot = (trackId: number, firstSeen: number) => {
      let i = byTrack.get(trackId);
      if (i === undefined) byTrack.set(trackId, (i = seen.push({ firstSeen }) - 1));
      return seen[i];
    };
    loop.on('liveness', (e: LivenessEvent) => (slot(e.trackId, e.firstSeen).live = e));
    loop.on('decision', (d: DecisionEvent) => {
      const s = byTrack.get(d.trackId);
      // Decided before its liveness (unknown faces): the track's first sighting is not known yet.
      if (s !== undefined) seen[s].access = d;
      else slot(d.trackId, d.ts - d.approachMs).access = d;
    });
    // Processed frames by time, to place each track in the segment it started in (seq counts from 0).
    const frameTimes: { t: number; segment: number }[] = [];
    const segOfSeq: number[] = segments.flatMap((seg, i) => seg.map(() => i));
    loop.on('frame', (f: { seq: number }) => frameTimes.push({ t: Date.now(), segment: segOfSeq[f.seq] ?? -1 }));
    await camera.start();
    loop.start();
    await loop.finished();
    await camera.stop();
    await gallery.close();
    const segmentOf = (ts: number) => frameTimes.find((f) => f.t >= ts - 5)?.segment ?? -1;
    // One attempt per segment: its first track with a liveness decision (else its first track).
    return segments.map((_, i) => {
      const inSeg = seen.filter((x) => segmentOf(x.firstSeen) === i);
      const s = inSeg.find((x) => x.live) ?? inSeg[0];
      const a: ClipAttempt = { segment: i };
      if (s?.live) {
        const { live, logOdds, bar, features, contributions, failed, frames, elapsedMs, votes } = s.live;
        a.liveness = { live, logOdds, bar, features, contributions, failed, frames, elapsedMs, votes };
        a.decisionMs = s.live.ts - s.firstSeen;
      }
      if (s?.access) a.access = { granted: s.access.granted, reason: s.access.reason, ms: s.access.ts - s.firstSeen };
      return a;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
