import { z } from 'zod';

export const gatewayMetricsConfigSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Serve Prometheus metrics at GET /metrics on the gateway HTTP port.'),
  prefix: z
    .string()
    .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/)
    .default('portier_gateway_')
    .describe('Prefix of every gateway metric name, the Node.js process metrics included.'),
  processMetrics: z
    .boolean()
    .default(true)
    .describe('Also export the Node.js process metrics (CPU, memory, event-loop lag, GC).'),
  httpDurationBuckets: z
    .array(z.number().positive())
    .min(1)
    .refine((b) => b.every((v, i) => i === 0 || v > b[i - 1]), { message: 'bucket bounds must be strictly increasing' })
    .default([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
    .describe('Upper bounds in seconds of the HTTP request duration histogram buckets (+Inf is added).'),
});

export type GatewayMetricsConfig = z.output<typeof gatewayMetricsConfigSchema>;
export const defaultGatewayMetricsConfig = (): GatewayMetricsConfig => gatewayMetricsConfigSchema.parse({});
