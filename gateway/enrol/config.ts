import { z } from 'zod';

export const gatewayEnrolConfigSchema = z.strictObject({
  duplicateThreshold: z
    .number()
    .min(-1)
    .max(1)
    .default(0.45)
    .describe('Cosine similarity at or above which a new face counts as already enrolled under ANOTHER person: about the doors\' 1:N vote threshold (derived per gallery for recognition.targetFpir: 0.44-0.48 at FPIR 1% with 100-491 people), so a face flagged here would likely be taken for that person at a door.'),
  onDuplicate: z
    .enum(['refuse', 'warn'])
    .default('refuse')
    .describe('A face matching another person: refuse it unless the request says force (default), or store it with only the warning. Storing it lets either person open the other\'s doors.'),
  maxTemplatesPerPerson: z.number().int().min(1).max(100).default(20).describe('Templates kept per person; further photos are refused until one is removed.'),
});

export type GatewayEnrolConfig = z.output<typeof gatewayEnrolConfigSchema>;
export const defaultGatewayEnrolConfig = (): GatewayEnrolConfig => gatewayEnrolConfigSchema.parse({});
