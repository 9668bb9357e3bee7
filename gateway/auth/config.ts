import { z } from 'zod';

export const gatewayAuthConfigSchema = z.strictObject({
  minPasswordLength: z
    .number()
    .int()
    .min(8)
    .max(256)
    .default(12)
    .describe('Shortest accepted admin/viewer password. There is no default password: the first admin is made with the one-time setup token.'),
  scryptLogN: z
    .number()
    .int()
    .min(14)
    .max(20)
    .default(15)
    .describe('Password hashing cost: scrypt N = 2^scryptLogN (r=8, p=1; 2^15 uses 32 MiB and ~0.1-0.3 s per login). Existing hashes keep their own cost.'),
  sessionIdleTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(30 * 60_000)
    .describe('A session unused for this long is ended.'),
  sessionMaxAgeMs: z
    .number()
    .int()
    .positive()
    .default(12 * 3600_000)
    .describe('A session ends this long after login, however active it is.'),
  secureCookies: z
    .boolean()
    .default(false)
    .describe(
      'Mark the session cookie Secure (sent over HTTPS only). Off by default because the gateway serves plain HTTP on a LAN; turn it on behind a TLS proxy.',
    ),
  loginMaxFailures: z
    .number()
    .int()
    .positive()
    .default(5)
    .describe('Failed logins allowed per username and per client address within loginWindowMs; further attempts get 429 with Retry-After.'),
  loginWindowMs: z
    .number()
    .int()
    .positive()
    .default(15 * 60_000)
    .describe('Sliding window of the login rate limit.'),
  trustProxy: z
    .boolean()
    .default(false)
    .describe('Take the client address for the rate limit from the last X-Forwarded-For entry (only behind a reverse proxy that sets it).'),
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .default(16 * 1024)
    .describe('Largest JSON body accepted by the auth endpoints.'),
});

export type GatewayAuthConfig = z.output<typeof gatewayAuthConfigSchema>;
export const defaultGatewayAuthConfig = (): GatewayAuthConfig => gatewayAuthConfigSchema.parse({});
