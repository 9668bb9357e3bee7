/**
 * Presentation-attack detection (PAD) cue contract. A cue watches one tracked approach frame by
 * frame and, at decision time, reports one number (its feature) or undefined when it saw no
 * evidence either way (a still head gives the motion cue nothing to judge). Turning a feature
 * into evidence (log-odds) is the fusion's job (device/liveness), not the cue's: cues stay plain
 * measurements that can be tested on crafted input and calibrated on data.
 */
import type { Box, HeadPose, Point } from '../geometry.ts';
import type { RgbImage } from '../image.ts';

export const CUE_NAMES = ['passive', 'screen_border', 'rigid_motion', 'blink', 'screen_artifacts'] as const;
export type CueName = (typeof CUE_NAMES)[number];

/** 8-bit single-channel image, row-major. */
export interface GreyImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** One frame's view of the tracked face. `img`/`grey` are only valid during observe(): copy what you keep. */
export interface PadObservation {
  /** Capture time, ms. */
  ts: number;
  img: RgbImage;
  grey: GreyImage;
  box: Box;
  landmarks68: Point[];
  /** Eye centres, nose tip, mouth corners. */
  landmarks: Point[];
  pose: HeadPose;
  /** Open probability of each eye (fr_eye), when the eye model ran on this frame. */
  eyesOpen?: [number, number];
  /** Live-class probability of fr_liveness on this frame, when it ran. */
  passive?: number;
}

/** Per-track state of one cue. */
export interface CueTracker {
  observe(o: PadObservation): void;
  /** The cue's measurement over the frames seen so far; undefined = no evidence. */
  feature(): number | undefined;
}

export interface Cue {
  readonly name: CueName;
  create(): CueTracker;
}

/** ITU-R BT.601 luma, rounded. */
export function toGrey(img: RgbImage, out?: GreyImage): GreyImage {
  const n = img.width * img.height;
  const data = out && out.data.length === n ? out.data : new Uint8Array(n);
  const src = img.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) data[i] = (77 * src[j] + 150 * src[j + 1] + 29 * src[j + 2] + 128) >> 8;
  return { width: img.width, height: img.height, data };
}
