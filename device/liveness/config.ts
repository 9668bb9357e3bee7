import { z } from 'zod';

const cueSwitch = (what: string, on = true) => z.boolean().default(on).describe(what);

export const livenessLevels = ['off', 'standard', 'strict'] as const;
export type LivenessLevel = (typeof livenessLevels)[number];

/**
 * Presentation-attack detection per approach. The cues' weights come from the calibration file
 * (fitted by `npm run eval -- --spoof-video ... --fit`); the level picks the log-odds a grant needs.
 */
export const livenessConfigSchema = z.strictObject({
  level: z
    .enum(livenessLevels)
    .default('standard')
    .describe(
      'Liveness level of this door. off: no presentation-attack check (a phone opens the door). standard: every cue on, the fused log-odds must reach levels.standard. ' +
        'strict: as standard with the higher levels.strict bar, plus an active check (turn the head or blink when asked).',
    ),
  attemptMs: z.number().int().min(200).max(10_000).default(1000).describe('How long one approach is watched before its liveness is decided (ms of frames from the first sighting).'),
  minFrames: z.number().int().min(1).default(4).describe('Fewest frames of the face an approach needs before liveness is decided (more frames wait up to 2 x attemptMs).'),
  levels: z
    .strictObject({
      standard: z.number().default(0).describe('Fused log-odds (live vs attack) an approach needs at the standard level; 0 = even odds under the calibration\'s balanced prior.'),
      strict: z.number().default(1.5).describe('Fused log-odds needed at the strict level (about 4.5:1 for live).'),
    })
    .prefault({})
    .describe('Decision bar per level, in natural-log odds.'),
  cues: z
    .strictObject({
      passive: cueSwitch('fr_liveness model score of the face and its context, calibrated to log-odds (RGB cameras only: skipped when camera.spectrum is nir).'),
      screen_border: cueSwitch('Straight edges of a phone, tablet, monitor or paper enclosing the face.'),
      rigid_motion: cueSwitch('Face and its surroundings moving as one plane (a held-up screen or print) rather than a head moving against a still background.'),
      blink: cueSwitch('Blinks seen on the track (fr_eye); evidence of life only.'),
      screen_artifacts: cueSwitch('Moire, refresh banding and display colour in the face crop (RGB cameras only).'),
    })
    .prefault({})
    .describe('Cue switches; a switched-off cue contributes nothing.'),
  calibration: z.string().default('').describe('Calibration JSON (cue weights); empty = the one shipped in device/liveness/calibration.json.'),
  challenge: z
    .strictObject({
      kinds: z.array(z.enum(['turn_left', 'turn_right', 'blink'])).min(1).default(['turn_left', 'turn_right', 'blink']).describe('Requests the strict level picks from at random.'),
      timeoutMs: z.number().int().min(500).default(4000).describe('Time the person has to follow the request.'),
      prompt: z
        .strictObject({
          type: z.enum(['log', 'command']).default('log').describe('log: write the request to the log (and /state); command: also run `command` with the text as its last argument (a display or text-to-speech hook).'),
          command: z.array(z.string()).default([]).describe('Program and arguments for type command, e.g. ["espeak-ng"].'),
        })
        .prefault({})
        .describe('How the person is asked.'),
    })
    .prefault({})
    .describe('Active check at the strict level.'),
});

export type LivenessConfig = z.output<typeof livenessConfigSchema>;
export const defaultLivenessConfig = (): LivenessConfig => livenessConfigSchema.parse({});
