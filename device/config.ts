/**
 * The device configuration: one schema composed from each module's own section, so every field
 * keeps its default and description next to the code that reads it. `npm run portier -- config`
 * style documentation is generated from this tree (see describeConfig).
 */
import { z } from 'zod';
import { visionConfigSchema } from '../core/vision/config.ts';
import { cameraConfigSchema } from './camera/config.ts';
import { doorConfigSchema } from './door/config.ts';
import { galleryConfigSchema } from './gallery/config.ts';
import { gpioConfigSchema } from './gpio/config.ts';
import { httpConfigSchema } from './http/config.ts';
import { livenessConfigSchema } from './liveness/config.ts';
import { metricsConfigSchema } from './metrics/config.ts';
import { policyConfigSchema } from './policy/config.ts';
import { recognitionConfigSchema } from './recognition/config.ts';
import { storeConfigSchema } from './store/config.ts';
import { syncConfigSchema } from './sync/config.ts';
import { systemdConfigSchema } from './systemd/config.ts';

export const deviceConfigSchema = z.strictObject({
  deviceId: z.string().min(1).default('door-1').describe('Name of this device in audit events and MQTT topics.'),
  vision: visionConfigSchema.prefault({}).describe('Face engine (models, thresholds, quality gates).'),
  recognition: recognitionConfigSchema.prefault({}).describe('Tracking and voting before a decision.'),
  liveness: livenessConfigSchema.prefault({}).describe('Presentation-attack detection (phones, screens, prints) per approach.'),
  camera: cameraConfigSchema.prefault({}).describe('Camera driver.'),
  gpio: gpioConfigSchema.prefault({}).describe('GPIO driver.'),
  door: doorConfigSchema.prefault({}).describe('Lock relay, door contact, exit button.'),
  policy: policyConfigSchema.prefault({}).describe('Access policy.'),
  gallery: galleryConfigSchema.prefault({}).describe('1:N search.'),
  store: storeConfigSchema.prefault({}).describe('Local storage: settings, audit outbox, encrypted templates.'),
  sync: syncConfigSchema.prefault({}).describe('MQTT sync with the gateway (after `portier join`).'),
  http: httpConfigSchema.prefault({}).describe('Local status endpoint.'),
  metrics: metricsConfigSchema.prefault({}).describe('Prometheus metrics.'),
  systemd: systemdConfigSchema.prefault({}).describe('systemd notify and watchdog.'),
});

export type DeviceConfig = z.output<typeof deviceConfigSchema>;
export type DeviceConfigInput = z.input<typeof deviceConfigSchema>;
