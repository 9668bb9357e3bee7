import { z } from 'zod';

const buckets = (dflt: number[], what: string) =>
  z
    .array(z.number().positive())
    .min(1)
    .refine((b) => b.every((v, i) => i === 0 || v > b[i - 1]), { message: 'bucket bounds must be strictly increasing' })
    .default(dflt)
    .describe(`Upper bounds in seconds of the ${what} histogram buckets (+Inf is added).`);

export const metricsConfigSchema = z.strictObject({
  prefix: z
    .string()
    .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/)
    .default('portier_')
    .describe('Prefix of every device metric name.'),
  frameToDecisionBuckets: buckets([0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5], 'frame-to-decision latency'),
  inferenceBuckets: buckets([0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1], 'per-stage inference latency'),
});

export type MetricsConfig = z.output<typeof metricsConfigSchema>;
export const defaultMetricsConfig = (): MetricsConfig => metricsConfigSchema.parse({});
