import { z } from 'zod';

export const recognitionConfigSchema = z.strictObject({
  door: z.string().default('main').describe('Id of the door this device controls (matched against schedules).'),
  targetFpir: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.01)
    .describe('False-positive identification rate the door aims for: the share of unknown visitors whose best match would reach the vote threshold. The device derives that threshold for its current gallery from the impostor scores of the enrolled templates against each other and against an anonymous background set (device/gallery/background.bin), and re-derives it when people are enrolled or removed; /state and /metrics show it. 0.01 held the measured FPIR within 0.65-1.52% at 100 to 491 enrolled people (cross-validated 0.78-1.71%: npm run eval -- --identify --gallery-sizes).'),
  matchThreshold: z
    .number()
    .min(-1)
    .max(1)
    .optional()
    .describe('Expert override: a fixed cosine similarity a face needs to count as a vote for a person in 1:N search. When set it replaces the threshold derived from targetFpir (whose FPIR it would otherwise drift from as the gallery grows); /state still reports its expected FPIR.'),
  adaptive: z
    .strictObject({
      enabled: z.boolean().default(false).describe('Let confident, live, multi-frame grants add a fresh template of the person (appearance drift: beard, glasses, ageing). Off by default.'),
      minScore: z.number().min(-1).max(1).default(0.6).describe('Mean vote score the granting frames need (well above the vote threshold: a template learnt from a doubtful match would teach the gallery the wrong face).'),
      minMargin: z.number().min(0).max(2).default(0.15).describe('Lead over the second-best person the granting frames need.'),
      minFrames: z.number().int().min(1).default(3).describe('Frames of the approach matching the person at minScore, averaged into the new template.'),
      maxPerPerson: z.number().int().min(1).default(2).describe('Adaptive templates kept per person beyond the enrolled ones; the oldest is replaced. Kept in memory only: a restart or re-enrolment starts again from the enrolled photos.'),
      minIntervalMs: z.number().int().min(0).default(3_600_000).describe('Least time between two adaptive updates of one person.'),
    })
    .prefault({})
    .describe('Adaptive enrolment at the door (device/recognition/adaptive.ts); every update is recorded in the audit log.'),
  votesNeeded: z.number().int().min(1).default(3).describe('k: frames out of the last n that must agree on one person (or on "unknown") before deciding.'),
  voteWindow: z.number().int().min(1).default(5).describe('n: how many recent frames of a track are considered.'),
  minLiveFrames: z.number().int().min(1).default(3).describe('Only where no per-approach liveness runs (tools and benchmarks that build the loop without it): the passive score is averaged over at least this many frames of the track before a grant. The door itself follows liveness.attemptMs and liveness.minFrames.'),
  trackIou: z.number().min(0).max(1).default(0.3).describe('Box overlap needed to continue a track from one frame to the next.'),
  trackTimeoutMs: z.number().int().min(1).default(1500).describe('A track not seen for this long ends; the next approach is a new decision.'),
  decodeMaxSide: z.number().int().min(0).default(1280).describe('Camera frames larger than this are downscaled before detection.'),
});
export type RecognitionConfig = z.output<typeof recognitionConfigSchema>;
