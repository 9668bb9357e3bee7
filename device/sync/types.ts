/** The sync client's dependencies and status, in one place for the daemon that wires them. */
import type { IClientOptions, MqttClient } from 'mqtt';
import type { DeviceStore } from '../store/store.ts';
import type { SyncGallery } from './apply-changes.ts';
import type { CaptureEnrolment, SyncDoor } from './commands.ts';
import type { SyncConfig } from './config.ts';
import type { StatusFields } from './status.ts';

/** Narrow metrics sink, so sync does not depend on the metrics module's shape. */
export interface SyncMetricsSink {
  connected?(up: boolean): void;
  rejected?(reason: string): void;
  nearCap?(near: boolean): void;
  cursor?(n: number): void;
  /** Age of the oldest unacknowledged audit event, seconds (0 when the outbox is empty). */
  lagSeconds?(s: number): void;
}

export interface SyncDeps {
  config: SyncConfig;
  deviceId: string;
  store: DeviceStore;
  gallery: SyncGallery;
  door: SyncDoor;
  /** Append to the outbox (durable when it returns; throws when the disk is full). */
  audit: (kind: string, body: Record<string, unknown>, id?: string) => void;
  /** Fields of the status message the daemon knows (door, camera, gpio, gallerySize, outboxDepth, versions). */
  state: () => StatusFields;
  captureEnrolment?: CaptureEnrolment;
  metrics?: SyncMetricsSink;
  now?: () => number;
  mqttConnect?: (url: string, opts: IClientOptions) => MqttClient;
  /** Sees every payload published (tests check that no secret leaves the device). */
  onPublish?: (topic: string, payload: string) => void;
}

export interface SyncStatus {
  connected: boolean;
  gatewayOnline: boolean | null;
  cursor: number | null;
  lastSyncAt: number | null;
  rejected: Record<string, number>;
  outboxDepth: number;
  outboxNearCap: boolean;
  outboxFull: boolean;
}

