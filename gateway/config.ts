/**
 * The gateway configuration: one schema composed from each module's own section (defaults and
 * descriptions live next to the code that reads them). The README's gateway configuration table
 * is generated from it (scripts/docs.ts).
 */
import { z } from 'zod';
import { visionConfigSchema } from '../core/vision/config.ts';
import { gatewayAuthConfigSchema } from './auth/config.ts';
import { gatewayBrokerConfigSchema } from './broker/config.ts';
import { gatewayEnrolConfigSchema } from './enrol/config.ts';
import { gatewayHttpConfigSchema } from './http/config.ts';
import { gatewayMetricsConfigSchema } from './metrics/config.ts';
import { gatewayStoreConfigSchema } from './store/config.ts';
import { gatewaySyncConfigSchema } from './sync/config.ts';

export const gatewayConfigSchema = z.strictObject({
  store: gatewayStoreConfigSchema.prefault({}).describe('Register and audit database, template key.'),
  http: gatewayHttpConfigSchema.prefault({}).describe('HTTP API (and the admin UI later).'),
  auth: gatewayAuthConfigSchema.prefault({}).describe('Admin accounts, sessions, login rate limit.'),
  broker: gatewayBrokerConfigSchema.prefault({}).describe('MQTT broker: embedded (aedes) or external.'),
  enrol: gatewayEnrolConfigSchema.prefault({}).describe('Enrolment photos: duplicate check, templates per person.'),
  sync: gatewaySyncConfigSchema.prefault({}).describe('Device sync over MQTT.'),
  vision: visionConfigSchema.prefault({}).describe('Face engine used for enrolment photos (same as on the devices).'),
  metrics: gatewayMetricsConfigSchema.prefault({}).describe('Prometheus metrics at /metrics.'),
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
