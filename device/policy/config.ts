import { z } from 'zod';
import { isValidTimeZone } from './clock.ts';

export const policyConfigSchema = z.strictObject({
  timeZone: z
    .string()
    .refine(isValidTimeZone, { message: 'unknown IANA time zone' })
    .default('UTC')
    .describe('IANA time zone (e.g. "Europe/Berlin") in which schedules and date-only validity bounds are read.'),
  requireLiveness: z.boolean().default(true).describe('Refuse faces the liveness check did not pass (reason not_live).'),
  minMatchScore: z
    .number()
    .min(-1)
    .max(1)
    .default(0)
    .describe('Extra similarity bar on top of vision.match.threshold (reason low_score); 0 leaves it to the matcher.'),
  minMargin: z
    .number()
    .min(0)
    .max(2)
    .default(0.05)
    .describe('Least lead of the best match over the best different person (reason low_margin); 0 disables.'),
  unscheduledAccess: z
    .enum(['none', 'all'])
    .default('none')
    .describe('Access for a person with no schedule at all (own or group): none = no door, all = every door at any time.'),
});

export type PolicyConfig = z.output<typeof policyConfigSchema>;
export const defaultPolicyConfig = (): PolicyConfig => policyConfigSchema.parse({});
