/**
 * A scripted vision engine for loop tests without models: each analysed frame returns the faces
 * the test describes (a frontal, good-quality face at a fixed box unless overridden), and the
 * loop's clock follows the frames fed to it.
 */
import { defaultVisionConfig } from '../../../core/vision/config.ts';
import type { Analysis, AnalyzeOptions, FaceResult, VisionEngine } from '../../../core/vision/engine.ts';
import { EventEmitter } from 'node:events';
import type { Camera } from '../../../device/camera/types.ts';
import { policyConfigSchema } from '../../../device/policy/config.ts';
import { recognitionConfigSchema } from '../../../device/recognition/config.ts';
import { RecognitionLoop, type RecognitionDeps } from '../../../device/recognition/loop.ts';

export function scriptedFace(over: Partial<FaceResult> = {}): FaceResult {
  return {
    box: [16, 16, 48, 48],
    score: 0.99,
    landmarks: [],
    landmarks68: [],
    pose: { yaw: 0, pitch: 0, roll: 0 },
    quality: { ok: true, reasons: [], size: 32, sharpness: 100, brightness: 120 },
    ...over,
  };
}

/** `faces(opts, i)`: the faces of the i-th analysed frame, given the options the loop asked with. */
export function scriptedEngine(faces: (opts: AnalyzeOptions, frame: number) => FaceResult[]): VisionEngine {
  let frame = 0;
  const img = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
  return {
    config: defaultVisionConfig(),
    decode: async () => img,
    analyze: async (_img: unknown, opts: AnalyzeOptions = {}): Promise<Analysis> => ({ width: 64, height: 64, faces: faces(opts, frame++), primary: 0 }),
  } as unknown as VisionEngine;
}

/** Feed `n` frames `stepMs` apart; `clock.t` is what the loop's `now` reads. */
export async function feedFrames(loop: RecognitionLoop, n: number, clock: { t: number }, stepMs = 100): Promise<void> {
  for (let i = 0; i < n; i++) {
    clock.t += stepMs;
    await loop.processFrame({ data: Buffer.from([0xff, 0xd8]), format: 'jpeg', ts: clock.t, seq: i });
  }
}

/** A loop at door 'd' with a fixed 0.5 vote threshold, everyone allowed, no camera (frames are fed) and `clock` as its time. */
export function scriptedLoop(deps: Pick<RecognitionDeps, 'engine' | 'gallery'> & Partial<RecognitionDeps>, clock: { t: number }): RecognitionLoop {
  return new RecognitionLoop({
    camera: new EventEmitter() as unknown as Camera,
    config: recognitionConfigSchema.parse({ door: 'd', matchThreshold: 0.5 }),
    policy: policyConfigSchema.parse({ unscheduledAccess: 'all' }),
    person: (id) => ({ id }),
    groups: () => ({}),
    act: async () => {},
    now: () => clock.t,
    ...deps,
  });
}
