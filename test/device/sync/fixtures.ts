/**
 * Sync test fixtures: an in-process aedes broker on a loopback port (that can be taken down and
 * brought back on the same port), a test "gateway" that signs like the real one with its own key
 * set, and a joined device (real store, gallery, door on simulated GPIO) running startSync.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { checkHelloProof, encodeBundle, joinKey } from '../../../core/sync/bundle.ts';
import { bodySchemas, type DownBody, type DownKind, topics, ttlMs, type WireEvent } from '../../../core/sync/contract.ts';
import { type Envelope, keyId, signEnvelope, verifyEnvelope } from '../../../core/sync/envelope.ts';
import { generateKeySet, importPublicKey, type KeySet, publicKeys } from '../../../core/sync/keys.ts';
import { doorConfigSchema, type DoorConfig } from '../../../device/door/config.ts';
import { Door } from '../../../device/door/door.ts';
import { relayLevels } from '../../../device/door/levels.ts';
import { idleInputs } from '../../../device/door/simulate.ts';
import { Gallery } from '../../../device/gallery/gallery.ts';
import { SimulatedGpio } from '../../../device/gpio/simulated.ts';
import { joinDevice } from '../../../device/provision/join.ts';
import { openStore, type DeviceStore } from '../../../device/store/store.ts';
import { type SyncClient, type SyncDeps, startSync } from '../../../device/sync/client.ts';
import { syncConfigSchema, type SyncConfig, type SyncConfigInput } from '../../../device/sync/config.ts';
import type { StatusFields } from '../../../device/sync/status.ts';
import { tempDir, testKeyEnv } from '../harness.ts';

export const DIM = 128;

export async function waitFor<T>(fn: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TestBroker {
  url: string;
  port: number;
  users: Map<string, string>;
  /** Every payload the broker saw published (topic, bytes), as a `#` subscriber with admin rights would. */
  seen: { topic: string; payload: Buffer }[];
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startBroker(): Promise<TestBroker> {
  const users = new Map<string, string>();
  const seen: { topic: string; payload: Buffer }[] = [];
  const broker = await Aedes.createBroker({
    authenticate: (_c, u, p, done) => done(null, !!u && users.get(u) === p?.toString()),
  });
  broker.on('publish', (packet) => {
    if (!packet.topic.startsWith('$SYS')) seen.push({ topic: packet.topic, payload: Buffer.from(packet.payload) });
  });
  const sockets = new Set<Socket>();
  let server: Server;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        broker.handle(s);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const port = await listen(0);
  const closeServer = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      for (const s of sockets) s.destroy();
    });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    users,
    seen,
    down: closeServer,
    up: async () => void (await listen(port)),
    close: async () => {
      await closeServer();
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

export interface Received {
  topic: string;
  kind: string;
  deviceId: string;
  env: Envelope<any>;
}

/** Plays the gateway: its own key set, signs down messages, checks device signatures, acks audit. */
export class TestGateway {
  readonly keys: KeySet = generateKeySet();
  readonly pub = publicKeys(this.keys);
  readonly kid = keyId(this.keys.sign.publicKey);
  seq = 1_000;
  client!: MqttClient;
  autoAck = true;
  /** Store the next n audit batches but never acknowledge them (a gateway killed before its ack). */
  dropAcks = 0;
  received: Received[] = [];
  /** Audit events stored, once each (by event id). */
  events = new Map<string, WireEvent>();
  deviceKeys = new Map<string, { signPublicKey: string; sealPublicKey: string }>();
  joinKeys = new Map<string, string>();
  badUp = 0;
  /** Answer the device's sync requests (the test scripts the register). */
  onSync?: (deviceId: string, body: { tid: string; cursor: number | null }) => void;

  constructor(private readonly broker: TestBroker) {
    broker.users.set('gateway', 'gateway-pw');
  }

  async connect(): Promise<void> {
    this.client = mqtt.connect(this.broker.url, {
      clientId: 'gateway',
      username: 'gateway',
      password: 'gateway-pw',
      reconnectPeriod: 100,
      will: { topic: topics.gatewayAvailability(), payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client.on('connect', () => {
      void this.client.publishAsync(topics.gatewayAvailability(), 'online', { qos: 1, retain: true });
    });
    this.client.on('message', (t, p) => this.onMessage(t, p));
    await new Promise<void>((r) => this.client.once('connect', () => r()));
    await this.client.subscribeAsync([topics.allUp()], { qos: 1 });
  }

  /** Provision a device: broker user and bundle (what `portier provision` does). */
  provision(deviceId: string): { bundle: string; password: string; joinSecret: string } {
    const password = randomBytes(18).toString('base64url');
    const joinSecret = randomBytes(24).toString('base64url');
    this.broker.users.set(deviceId, password);
    this.joinKeys.set(deviceId, joinKey(joinSecret));
    const bundle = encodeBundle({ v: 1, deviceId, broker: { url: this.broker.url, username: deviceId, password }, gateway: this.pub, joinSecret });
    return { bundle, password, joinSecret };
  }

  private onMessage(topic: string, payload: Buffer): void {
    const m = /^portier\/v1\/devices\/([^/]+)\/up\/([a-z]+)$/.exec(topic);
    if (!m) return;
    const [, deviceId, kind] = m;
    const raw = JSON.parse(payload.toString());
    if (kind === 'hello') {
      const b = bodySchemas.up.hello.parse(raw.body);
      const jk = this.joinKeys.get(deviceId);
      if (!jk || !checkHelloProof(jk, deviceId, b.signPublicKey, b.sealPublicKey, b.proof)) return void this.badUp++;
      this.deviceKeys.set(deviceId, { signPublicKey: b.signPublicKey, sealPublicKey: b.sealPublicKey });
    }
    const keys = this.deviceKeys.get(deviceId);
    if (!keys) return void this.badUp++;
    const v = verifyEnvelope(payload, { type: kind, from: deviceId, to: 'gateway', publicKey: importPublicKey(keys.signPublicKey, 'Ed25519'), kid: keyId(keys.signPublicKey) });
    if (!v.ok) return void this.badUp++;
    this.received.push({ topic, kind, deviceId, env: v.envelope as Envelope<any> });
    if (kind === 'sync') this.onSync?.(deviceId, v.envelope.body as { tid: string; cursor: number | null });
    if (kind === 'audit' && this.autoAck) {
      const { events } = bodySchemas.up.audit.parse(v.envelope.body);
      let dup = 0;
      for (const e of events) (this.events.has(e.id) ? dup++ : this.events.set(e.id, e));
      if (this.dropAcks > 0) return void this.dropAcks--;
      void this.send(deviceId, 'ack', { upTo: events[events.length - 1].seq, received: events.length - dup, duplicates: dup });
    }
  }

  /** A signed down message; `o` lets a test forge every field. */
  sign<K extends DownKind>(deviceId: string, kind: K, body: DownBody<K> | unknown, o: { seq?: number; now?: number; ttlMs?: number; keys?: KeySet; kid?: string; to?: string } = {}): string {
    const keys = o.keys ?? this.keys;
    const env = signEnvelope({
      type: kind,
      from: 'gateway',
      to: o.to ?? deviceId,
      seq: o.seq ?? ++this.seq,
      body,
      privateKey: keys.sign.privateKey,
      kid: o.kid ?? keyId(keys.sign.publicKey),
      ttlMs: o.ttlMs ?? ttlMs[kind],
      now: o.now,
    });
    return JSON.stringify(env);
  }

  async publish(deviceId: string, kind: DownKind, payload: string): Promise<void> {
    await this.client.publishAsync(topics.down(deviceId, kind), payload, { qos: 1 });
  }

  async send<K extends DownKind>(deviceId: string, kind: K, body: DownBody<K>, o: Parameters<TestGateway['sign']>[3] = {}): Promise<string> {
    const payload = this.sign(deviceId, kind, body, o);
    await this.publish(deviceId, kind, payload);
    return payload;
  }

  of(kind: string, deviceId?: string): Received[] {
    return this.received.filter((r) => r.kind === kind && (!deviceId || r.deviceId === deviceId));
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export interface TestDevice {
  id: string;
  dir: string;
  store: DeviceStore;
  gallery: Gallery;
  gpio: SimulatedGpio;
  door: Door;
  doorCfg: DoorConfig;
  sync: SyncClient;
  config: SyncConfig;
  /** Payloads the device published (via onPublish). */
  published: { topic: string; payload: string }[];
  /** The daemon's audit function: append + notifyOutbox. */
  audit: (kind: string, body: Record<string, unknown>, id?: string) => void;
  relayUnlocked(): boolean;
  everUnlocked(): boolean;
  securityEvents(): { kind: string; body: any }[];
  stop(): Promise<void>;
}

export async function startTestDevice(
  gw: TestGateway,
  id: string,
  o: { sync?: SyncConfigInput; deps?: Partial<SyncDeps>; cleanups: (() => unknown)[] },
): Promise<TestDevice> {
  const t = tempDir();
  o.cleanups.push(t.cleanup);
  const config = syncConfigSchema.parse({ enabled: true, reconnectPeriodMs: 100, ackTimeoutMs: 1000, ...o.sync });
  const { bundle } = gw.provision(id);
  await joinDevice({ storeDir: t.dir, bundle, config });
  const store = await openStore({ dir: t.dir, templateKey: { type: 'env', file: 'template.key', env: 'PORTIER_TEMPLATE_KEY' }, integrityCheck: false }, { env: testKeyEnv });
  const gallery = new Gallery({ dim: DIM, maxTemplates: 1000, kernel: { type: 'js', threads: 1 } });
  const doorCfg = doorConfigSchema.parse({ unlockMs: 300 });
  const gpio = new SimulatedGpio(undefined, idleInputs(doorCfg));
  const door = new Door(doorCfg, { gpio, crashGuard: false });
  await door.start();
  const published: { topic: string; payload: string }[] = [];
  let sync: SyncClient | undefined;
  const audit = (kind: string, body: Record<string, unknown>, eid?: string) => {
    store.outbox.append({ kind, id: eid, body: { device: id, ...body } });
    sync?.notifyOutbox();
  };
  const state = (): StatusFields => ({
    door: { id: 'front', state: door.state.locked ? 'locked' : 'unlocked', open: door.state.open, alarms: [] },
    camera: { status: 'up', driver: 'simulated' },
    gpio: 'simulated',
    gallerySize: gallery.personCount,
    outboxDepth: store.outbox.count(),
    versions: { software: 'test', models: {} },
  });
  sync = await startSync({ config, deviceId: id, store, gallery, door, audit, state, onPublish: (topic, payload) => published.push({ topic, payload }), ...o.deps });
  const unlocked = relayLevels(doorCfg).unlocked;
  let stopping: Promise<void> | undefined;
  const dev: TestDevice = {
    id,
    dir: t.dir,
    store,
    gallery,
    gpio,
    door,
    doorCfg,
    sync,
    config,
    published,
    audit,
    relayUnlocked: () => gpio.outputLevel(doorCfg.relay.pin) === unlocked,
    everUnlocked: () => gpio.outputHistory(doorCfg.relay.pin).some((h) => h.level === unlocked),
    securityEvents: () => store.outbox.peek(100_000).filter((e) => e.kind === 'security') as { kind: string; body: any }[],
    stop: () =>
      (stopping ??= (async () => {
        await sync!.stop();
        await door.stop();
        await gallery.close();
        store.close();
      })()),
  };
  o.cleanups.push(() => dev.stop().catch(() => {}));
  return dev;
}

/** A deterministic embedding. */
export function embedding(seed: number, dim = DIM): Float32Array {
  const e = new Float32Array(dim);
  let x = seed * 7919 + 1;
  for (let i = 0; i < dim; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    e[i] = x / 2147483648 - 0.5;
  }
  return e;
}
