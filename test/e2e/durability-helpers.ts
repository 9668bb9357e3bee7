/**
 * Helpers for the offline and crash tests (test/e2e/offline.test.ts): a fixed free broker port
 * (it must survive a gateway restart), a gateway either in this process or as a child process
 * (`gateway/main.ts --config`, so it can be SIGKILLed), a real device daemon joined with the
 * gateway's provisioning bundle (startJoinedDevice in ./helpers.ts, idle camera), decisions appended through the daemon's audit path, and the
 * gateway's audit table read straight from its SQLite file.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute, join } from 'node:path';
import Database from 'better-sqlite3';
import { parseConfig } from '../../core/config/load.ts';
import { loadOrCreateKeySet } from '../../core/sync/keys.ts';
import type { Device } from '../../device/daemon.ts';
import type { SyncConfigInput } from '../../device/sync/config.ts';
import { gatewayConfigSchema, type GatewayConfig, type GatewayConfigInput } from '../../gateway/config.ts';
import { openGatewayStore } from '../../gateway/store/open.ts';
import { provisionDevice } from '../../gateway/sync/provision.ts';
import { repoRoot } from '../helpers.ts';

/** A TCP port free right now on loopback; the broker binds it on every (re)start. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Generous polling timeout of these tests (waitFor from ./helpers.ts): restarts and drains of hundreds of events on a busy machine. */
export const SLOW_WAIT_MS = 30_000;

/**
 * Sync settings of the durability devices (startJoinedDevice from ./helpers.ts, idle camera):
 * reconnect and resend quickly so the tests stay short, status rarely.
 */
export const durableSync = { reconnectPeriodMs: 200, ackTimeoutMs: 1000, statusIntervalMs: 60_000 } satisfies SyncConfigInput;

/** Gateway config input: store in `dir`, embedded broker on loopback `brokerPort`, API on a free port. */
export function gatewayInput(dir: string, brokerPort: number): GatewayConfigInput {
  return {
    store: { dir, integrityCheck: false },
    http: { host: '127.0.0.1', port: 0 },
    broker: { host: '127.0.0.1', port: brokerPort },
    vision: { modelDir: join(repoRoot, 'models') },
  };
}

export const gatewayConfig = (dir: string, brokerPort: number): GatewayConfig => parseConfig(gatewayConfigSchema, gatewayInput(dir, brokerPort));

/**
 * Provision a device with the gateway stopped, as `portier provision` does (opens the store
 * directly, creates the gateway key pair on first use). Returns the join bundle.
 */
export async function provisionOffline(config: GatewayConfig, deviceId: string): Promise<string> {
  const store = openGatewayStore(config.store);
  try {
    const keyFile = isAbsolute(config.sync.keyFile) ? config.sync.keyFile : join(config.store.dir, config.sync.keyFile);
    const { keys } = loadOrCreateKeySet(keyFile);
    const r = await provisionDevice(store, keys, `mqtt://127.0.0.1:${config.broker.port}`, deviceId, { name: deviceId });
    return r.bundle;
  } finally {
    store.close();
  }
}

/** The gateway has answered this device (ack or changes): its keys are pinned and it is talking. */
export const deviceAccepted = (device: Device): boolean => device.store.settings.data.sync?.joinKey === null && !!device.sync?.status().connected;

/**
 * `n` refusals recorded the way the daemon records a decision: appended to the outbox (durable
 * when append returns), then the sync is told. Returns the event ids in order.
 */
export function appendDecisions(device: Device, n: number): string[] {
  const ids: string[] = [];
  const door = device.config.recognition.door;
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const ts = Date.now();
    device.store.outbox.append({ kind: 'decision', id, ts, body: { device: device.config.deviceId, id, door, ts, frameTs: ts, trackId: i, live: 1, granted: false, reason: 'unknown', personId: null } });
    device.sync?.notifyOutbox();
    ids.push(id);
  }
  return ids;
}

export interface AuditRow {
  id: number;
  event_id: string;
  seq: number | null;
  kind: string;
}

/** The device's events in the gateway's audit table, in arrival order. */
export function auditRows(db: Database.Database, deviceId: string): AuditRow[] {
  return db.prepare('SELECT id, event_id, seq, kind FROM audit_log WHERE device_id = ? ORDER BY id').all(deviceId) as AuditRow[];
}

/** Same, from the database file of a gateway that is not running (read-only). */
export function auditRowsFromFile(file: string, deviceId: string): AuditRow[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return auditRows(db, deviceId);
  } finally {
    db.close();
  }
}

export interface GatewayChild {
  child: ChildProcessWithoutNullStreams;
  /** Resolves once the gateway printed its ready line (broker up, its own client connected). */
  ready: Promise<void>;
  /** Resolves with the exit signal (or code) once the process is gone. */
  exited: Promise<string>;
  /** stdout + stderr so far, for failure messages. */
  output(): string;
}

/** `node --import tsx gateway/main.ts --config file`, spawned now; await `ready` before relying on it. */
export function spawnGatewayChild(configFile: string, timeoutMs = 60_000): GatewayChild {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'gateway/main.ts'), '--config', configFile], {
    cwd: repoRoot,
    env: { ...process.env, PORTIER_LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? String(code))));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start within ${timeoutMs} ms:\n${out.slice(-3000)}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('Portier gateway: API')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d));
    // After `ready` this rejection is ignored (a settled promise stays settled).
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${how}) before it was ready:\n${out.slice(-3000)}`));
    });
  });
  ready.catch(() => {});
  return { child, ready, exited, output: () => out };
}

export async function startGatewayChild(configFile: string, timeoutMs?: number): Promise<GatewayChild> {
  const gw = spawnGatewayChild(configFile, timeoutMs);
  await gw.ready;
  return gw;
}

/** Stop a gateway child with `signal` and wait until it is gone. */
export async function stopGatewayChild(gw: GatewayChild, signal: NodeJS.Signals): Promise<string> {
  if (gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill(signal);
  return gw.exited;
}

/** Write a gateway config file for the child process. */
export function writeGatewayConfig(file: string, input: GatewayConfigInput): string {
  writeFileSync(file, JSON.stringify(input, null, 2));
  return file;
}
