/**
 * Per-frame cost of each liveness cue, on crafted 640x480 approaches (a live head and a phone
 * attack made from the fixture portraits, so the bench needs no ../shared): every frame goes
 * through the engine once, then each cue observes the same frames while being timed. The eye
 * model the blink cue needs is timed as the engine's extra time with `eyes` on; the grey
 * conversion every frame-based cue shares is timed on its own.
 */
import { resolve } from 'node:path';
import type { VisionEngine } from '../../core/vision/engine.ts';
import type { RgbImage } from '../../core/vision/image.ts';
import { toGrey, type PadObservation } from '../../core/vision/pad/types.ts';
import { ALL_CUES } from '../../device/liveness/cues.ts';
import { loadCalibration } from '../../device/liveness/fusion.ts';
import { craftedSequence } from '../pad/crafted.ts';
import { percentile, round2 } from '../eval/stats.ts';

const root = resolve(import.meta.dirname, '../..');

export interface PadBench {
  /** Cue -> p50 ms per frame (the blink cue includes the eye model). */
  pad_cue_ms: Record<string, number>;
  pad_grey_ms: number;
  /** fr_eye on both eyes, which only the blink cue (and the strict level's blink request) needs. */
  pad_eye_model_ms: number;
  /** What the device adds per frame with the shipped weights (cues without a weight do not run), p50. */
  pad_total_p50_ms: number;
  /** The cues that total covers. */
  pad_cues_used: string[];
  pad_frames: number;
}

export async function benchPad(engine: VisionEngine, framesPerClip = 45): Promise<PadBench> {
  const frames: RgbImage[] = [];
  for (const [kind, portrait] of [
    ['live', 'grace_hopper.jpg'],
    ['phone', 'grace_hopper.jpg'],
    ['live', 'astronaut_eileen_collins.png'],
    ['phone', 'astronaut_eileen_collins.png'],
  ] as const) {
    const seq = await craftedSequence({ portrait: resolve(root, 'test/fixtures', portrait), kind, frames: framesPerClip, motion: 'rigid', seed: 5 });
    frames.push(...seq.frames);
  }
  const obs: { o: Omit<PadObservation, 'grey'>; img: RgbImage; clip: number }[] = [];
  const offMs: number[] = [];
  const onMs: number[] = [];
  for (let i = 0; i < frames.length; i++) {
    const img = frames[i];
    const t0 = performance.now();
    await engine.analyze(img, { embed: 'none', liveness: false });
    const t1 = performance.now();
    const a = await engine.analyze(img, { embed: 'none', liveness: false, eyes: true });
    const t2 = performance.now();
    offMs.push(t1 - t0);
    onMs.push(t2 - t1);
    const f = a.faces[a.primary];
    if (!f) continue;
    obs.push({ img, clip: Math.floor(i / framesPerClip), o: { ts: (i % framesPerClip) * 66.7, img, box: f.box, landmarks68: f.landmarks68, landmarks: f.landmarks, pose: f.pose, eyesOpen: f.eyesOpen, passive: 0.5 } });
  }
  const greyMs: number[] = [];
  const greys = obs.map(({ img }) => {
    const t = performance.now();
    const g = toGrey(img);
    greyMs.push(performance.now() - t);
    return g;
  });
  const perCue: Record<string, number[]> = {};
  for (const [name, cue] of Object.entries(ALL_CUES)) {
    const times: number[] = [];
    let tracker = cue.create();
    let clip = -1;
    obs.forEach(({ o, clip: c }, i) => {
      if (c !== clip) [tracker, clip] = [cue.create(), c];
      const t = performance.now();
      tracker.observe({ ...o, grey: greys[i] });
      if (i % 15 === 14) tracker.feature();
      times.push(performance.now() - t);
    });
    perCue[name] = times;
  }
  const p50 = (v: number[]) => round2(percentile(v, 0.5));
  // The eye model's cost: median engine time with eyes on minus with them off (same frames).
  const eyeMs = Math.max(0, percentile(onMs, 0.5) - percentile(offMs, 0.5));
  const pad_cue_ms: Record<string, number> = {};
  for (const [name, times] of Object.entries(perCue)) pad_cue_ms[name] = p50(times) + (name === 'blink' ? round2(eyeMs) : 0);
  const used = Object.keys(loadCalibration().cues);
  const total = obs.map((_, i) => greyMs[i] + (used.includes('blink') ? eyeMs : 0) + used.reduce((s, c) => s + (perCue[c]?.[i] ?? 0), 0));
  return { pad_cue_ms, pad_grey_ms: p50(greyMs), pad_eye_model_ms: round2(eyeMs), pad_total_p50_ms: p50(total), pad_cues_used: used, pad_frames: obs.length };
}
