import { z } from 'zod';

export const recognitionConfigSchema = z.strictObject({
  door: z.string().default('main').describe('Id of the door this device controls (matched against schedules).'),
  matchThreshold: z
    .number()
    .min(-1)
    .max(1)
    .default(0.45)
    .describe('Cosine similarity a face needs to count as a vote for a person in 1:N search. Higher than the 1:1 vision.match.threshold because a gallery of N people multiplies the chances of a false match (0.45: FPIR 1% over 491 people, see npm run eval -- --identify).'),
  votesNeeded: z.number().int().min(1).default(3).describe('k: frames out of the last n that must agree on one person (or on "unknown") before deciding.'),
  voteWindow: z.number().int().min(1).default(5).describe('n: how many recent frames of a track are considered.'),
  minLiveFrames: z.number().int().min(1).default(3).describe('Liveness is averaged over at least this many frames of the track before a grant.'),
  trackIou: z.number().min(0).max(1).default(0.3).describe('Box overlap needed to continue a track from one frame to the next.'),
  trackTimeoutMs: z.number().int().min(1).default(1500).describe('A track not seen for this long ends; the next approach is a new decision.'),
  decodeMaxSide: z.number().int().min(0).default(1280).describe('Camera frames larger than this are downscaled before detection.'),
});
export type RecognitionConfig = z.output<typeof recognitionConfigSchema>;
