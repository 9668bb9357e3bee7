import { z } from 'zod';

export const gatewayHttpConfigSchema = z.strictObject({
  host: z
    .string()
    .default('127.0.0.1')
    .describe(
      'Address the API listens on. Loopback by default: this server speaks plain HTTP, so reach it from other machines through a TLS reverse proxy (then set publicUrl), or set 0.0.0.0 on a trusted network.',
    ),
  port: z.number().int().min(0).max(65535).default(8080).describe('TCP port of the API (0 = any free port).'),
  publicUrl: z
    .string()
    .default('')
    .describe('Base URL people use to reach the gateway, e.g. https://portier.example.com behind a proxy; used in printed links. Empty: http://host:port.'),
  maxJsonBytes: z.number().int().min(1024).default(1_048_576).describe('Largest JSON request body, in bytes (413 above).'),
  maxUploadBytes: z.number().int().min(1024).default(26_214_400).describe('Largest photo upload (multipart or base64 JSON), in bytes, all photos together (413 above).'),
  maxPhotosPerRequest: z.number().int().min(1).max(100).default(10).describe('Most photos accepted in one enrolment request.'),
  requestTimeoutMs: z.number().int().min(1000).default(120_000).describe('A request (headers and body) must arrive within this time.'),
  metricsToken: z
    .string()
    .default('')
    .describe('When set, GET /metrics requires `Authorization: Bearer <token>` (for a Prometheus scraper); empty = open like the device status endpoint.'),
});

export type GatewayHttpConfig = z.output<typeof gatewayHttpConfigSchema>;
export type GatewayHttpConfigInput = z.input<typeof gatewayHttpConfigSchema>;
export const defaultGatewayHttpConfig = (): GatewayHttpConfig => gatewayHttpConfigSchema.parse({});
