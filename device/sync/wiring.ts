/**
 * The daemon's side of sync in one place: start the client when the device has joined, lend the
 * recognition loop's frames to enrol-here captures, feed the metrics, and say in /health what
 * an operator must know (outbox near its cap, broker lost, sync broken, wrong door). A sync that
 * cannot start leaves the door running standalone: the exit button never depends on it.
 */
import { createLogger } from '../../core/log/logger.ts';
import type { VisionEngine } from '../../core/vision/engine.ts';
import type { Camera } from '../camera/types.ts';
import type { Door } from '../door/door.ts';
import type { Gallery } from '../gallery/gallery.ts';
import type { DeviceMetrics } from '../metrics/device-metrics.ts';
import type { RecognitionLoop } from '../recognition/loop.ts';
import type { DeviceStore } from '../store/store.ts';
import { startSync, type SyncClient } from './client.ts';
import type { CaptureEnrolment } from './commands.ts';
import type { SyncConfig } from './config.ts';
import { createCaptureEnrolment } from './enrol-here.ts';
import type { StatusFields } from './status.ts';

const log = createLogger('device');

export interface DeviceSyncDeps {
  config: SyncConfig;
  deviceId: string;
  /** The door this device is configured for (recognition.door). */
  doorId: string;
  store: DeviceStore;
  gallery: Gallery;
  door: Door;
  camera: Camera;
  loop: RecognitionLoop;
  engine: VisionEngine;
  metrics: DeviceMetrics;
  audit: (kind: string, body: Record<string, unknown>, id?: string) => void;
  state: () => StatusFields;
  now: () => number;
}

export interface DeviceSync {
  client?: SyncClient;
  /** /health warnings: outbox_full, outbox_near_cap, sync_disconnected, sync_failed, door_mismatch. */
  warnings(): string[];
  /** For /state. */
  status(): Record<string, unknown>;
}

export async function startDeviceSync(d: DeviceSyncDeps): Promise<DeviceSync> {
  const joined = !!d.store.settings.data.sync;
  // The gateway decides which door's people a device receives; a device configured for another
  // door would refuse them all by schedule. Say so rather than fail quietly.
  const assignedDoor = () => (d.store.settings.data.values.policy as { door?: string | null } | undefined)?.door ?? null;
  const doorMismatch = () => {
    const door = assignedDoor();
    return !!door && door !== d.doorId;
  };
  let client: SyncClient | undefined;
  let failure: string | undefined;
  if (d.config.enabled && !joined) log.info('not joined to a gateway (`npm run portier -- join <bundle>`); running standalone');
  if (d.config.enabled && joined) {
    // The camera has one consumer: an enrol-here capture borrows the loop's frames.
    const captureEnrolment: CaptureEnrolment = async (opts) => {
      const lent = d.loop.lendFrames();
      try {
        return await createCaptureEnrolment({ engine: d.engine, nextFrame: (signal) => lent.next(signal), captureStill: d.camera.captureStill?.bind(d.camera) })(opts);
      } finally {
        lent.release();
      }
    };
    const m = d.metrics;
    try {
      client = await startSync({
        config: d.config,
        deviceId: d.deviceId,
        store: d.store,
        gallery: d.gallery,
        door: d.door,
        audit: d.audit,
        state: d.state,
        captureEnrolment,
        now: d.now,
        metrics: {
          connected: (up) => m.syncConnected.set(up ? 1 : 0),
          rejected: (reason) => m.syncRejected.inc({ reason }),
          nearCap: (near) => m.outboxNearCap.set(near ? 1 : 0),
          cursor: (n) => m.syncCursor.set(n),
          lagSeconds: (sec) => m.syncLagSeconds.set(sec),
        },
      });
      let warnedDoor: string | null = null;
      client.on('applied', () => {
        client?.notifyState();
        if (doorMismatch() && warnedDoor !== assignedDoor()) {
          warnedDoor = assignedDoor();
          log.warn('the gateway assigns this device to another door than recognition.door; its people will be refused by schedule', { assigned: warnedDoor, configured: d.doorId });
        }
      });
    } catch (err) {
      // A broken join (key file mode, another device id) leaves the door standalone, loudly.
      failure = (err as Error).message;
      log.error('sync cannot start; running standalone', { error: failure });
    }
  }
  return {
    client,
    warnings() {
      const st = client?.status();
      if (!st) return failure ? ['sync_failed'] : [];
      return [
        st.outboxFull && 'outbox_full',
        !st.outboxFull && st.outboxNearCap && 'outbox_near_cap',
        !st.connected && 'sync_disconnected',
        doorMismatch() && 'door_mismatch',
      ].filter((w): w is string => !!w);
    },
    status() {
      return client ? { ...client.status() } : { enabled: d.config.enabled, joined, ...(failure ? { error: failure } : {}) };
    },
  };
}
