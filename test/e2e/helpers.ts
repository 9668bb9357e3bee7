/**
 * Whole-system test helpers: a gateway on loopback, devices joined through the HTTP API with
 * the bundle it returns, a camera the test feeds frame by frame, and an API client that logs in
 * like a browser (session cookie + CSRF header).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../core/config/load.ts';
import type { VisionEngine } from '../../core/vision/engine.ts';
import { BaseCamera } from '../../device/camera/base.ts';
import { startDevice, type Device } from '../../device/daemon.ts';
import { joinDevice } from '../../device/provision/join.ts';
import type { SyncConfigInput } from '../../device/sync/config.ts';
import { gatewayConfigSchema, type GatewayConfigInput } from '../../gateway/config.ts';
import { startGateway, type Gateway } from '../../gateway/gateway.ts';
import { idleCamera, tempDir as harnessTempDir, testConfig, testKeyEnv } from '../device/harness.ts';
import { repoRoot } from '../helpers.ts';

/** A camera the test drives: push() delivers one JPEG frame through the real mailbox. */
export class PushCamera extends BaseCamera {
  readonly kind = 'push';
  constructor() {
    super('camera:push');
  }
  async start(): Promise<void> {
    this.mailbox.reopen();
    this.setStatus('streaming');
  }
  async stop(): Promise<void> {
    this.mailbox.close('stopped');
    this.setStatus('stopped');
  }
  push(jpeg: Buffer): void {
    this.publish(jpeg, 'jpeg');
  }
  /** Push `frames` at `fps` (the loop drops what it cannot keep up with, as on hardware). */
  async play(frame: Buffer, count: number, fps = 10): Promise<void> {
    for (let i = 0; i < count; i++) {
      this.push(frame);
      await new Promise((r) => setTimeout(r, 1000 / fps));
    }
  }
}

export const tempDir = (prefix = 'portier-e2e-'): { dir: string; cleanup: () => void } => harnessTempDir(prefix);

export async function startTestGateway(dir: string, engine: VisionEngine, extra: GatewayConfigInput = {}): Promise<Gateway> {
  const config = parseConfig(gatewayConfigSchema, {
    store: { dir, integrityCheck: false },
    http: { port: 0 },
    broker: { host: '127.0.0.1', port: 0 },
    vision: { modelDir: join(repoRoot, 'models') },
    auth: { scryptLogN: 14 },
    sync: { notifyDebounceMs: 10 },
    ...extra,
  });
  return startGateway(config, { engine });
}

/** Logs in like the admin UI will: JSON bodies, session cookie, x-csrf-token on every change. */
export class ApiClient {
  private cookie = '';
  private csrf = '';
  constructor(readonly base: string) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const res = await fetch(this.base + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* CSV or empty */
    }
    if (parsed && typeof parsed === 'object' && typeof parsed.csrfToken === 'string') this.csrf = parsed.csrfToken;
    return { status: res.status, body: parsed };
  }

  /** First-run setup with the one-time token; leaves this client logged in as admin. */
  async setup(token: string, username = 'admin', password = 'correct horse battery staple'): Promise<void> {
    const r = await this.call('POST', '/api/setup', { token, username, password });
    if (r.status !== 201) throw new Error(`setup failed: ${r.status} ${JSON.stringify(r.body)}`);
  }

  async login(username: string, password: string): Promise<number> {
    return (await this.call('POST', '/api/auth/login', { username, password })).status;
  }
}

export interface JoinedDevice<C extends PushCamera | null = PushCamera> {
  device: Device;
  /** The push camera the test feeds; null with `idleCamera`. */
  camera: C;
  dir: string;
}

export interface JoinedDeviceOptions {
  id: string;
  /** The door the device guards (recognition.door), also given when provisioning through the API. */
  door?: string;
  /** The device's store folder. */
  dir: string;
  brokerUrl?: string;
  /** A bundle provisioned elsewhere (another call, or offline); without it the device is provisioned through `api`. */
  provisioned?: { bundle: string };
  /** Sync settings over the quick defaults below (e.g. batchSize). */
  sync?: SyncConfigInput;
  /** A simulated camera showing nobody for an hour instead of a push camera (no frames ever). */
  idleCamera?: boolean;
}

/**
 * Provision through the API (unless `provisioned` is given), join with the bundle, start the
 * daemon on a push camera (or an idle simulated one). Sync reconnects and resends quickly so
 * the tests stay short.
 */
export async function startJoinedDevice(api: ApiClient | null, engine: VisionEngine, o: JoinedDeviceOptions & { idleCamera: true }): Promise<JoinedDevice<null>>;
export async function startJoinedDevice(api: ApiClient | null, engine: VisionEngine, o: JoinedDeviceOptions & { idleCamera?: false }): Promise<JoinedDevice>;
export async function startJoinedDevice(api: ApiClient | null, engine: VisionEngine, o: JoinedDeviceOptions): Promise<JoinedDevice<PushCamera | null>> {
  let bundle = o.provisioned?.bundle;
  if (!bundle) {
    if (!api) throw new Error(`provision ${o.id}: no bundle and no API client`);
    const r = await api.call('POST', '/api/devices', { id: o.id, name: o.id, doorId: o.door });
    if (r.status !== 201) throw new Error(`provision ${o.id}: ${r.status} ${JSON.stringify(r.body)}`);
    bundle = r.body.bundle as string;
  }
  if (o.idleCamera) mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const config = testConfig(o.dir, {
    deviceId: o.id,
    ...(o.door !== undefined ? { recognition: { door: o.door } } : {}),
    ...(o.idleCamera ? idleCamera(o.dir, 3600, true) : {}),
    sync: { ackTimeoutMs: 1500, statusIntervalMs: 5000, reconnectPeriodMs: 300, ...(o.brokerUrl ? { brokerUrl: o.brokerUrl } : {}), ...o.sync },
  });
  await joinDevice({ storeDir: config.store.dir, bundle, config: config.sync, settingsFile: config.store.settingsFile });
  const camera = o.idleCamera ? null : new PushCamera();
  const device = await startDevice(config, { engine, ...(camera ? { camera } : {}), env: { ...process.env, ...testKeyEnv } });
  if (!device.sync) throw new Error(`device ${o.id} started without sync (not joined?)`);
  return { device, camera, dir: o.dir };
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const ALL_WEEK = [{ door: '*', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }];
