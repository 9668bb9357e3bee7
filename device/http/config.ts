import { z } from 'zod';

export const httpConfigSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Serve /health, /state and /metrics.'),
  host: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Address to bind; loopback by default because /state names the last person decided on.'),
  port: z.number().int().min(0).max(65535).default(9464).describe('TCP port; 0 picks a free port (tests).'),
  staleAfterMs: z
    .number()
    .int()
    .positive()
    .default(5000)
    .describe('/health answers 503 when the frame loop has not completed a frame for this long.'),
});

export type HttpConfig = z.output<typeof httpConfigSchema>;
export const defaultHttpConfig = (): HttpConfig => httpConfigSchema.parse({});
