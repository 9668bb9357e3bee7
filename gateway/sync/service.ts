/**
 * The gateway's side of MQTT sync: one client on the broker (embedded or external) that
 * - keeps retained availability (`online`, last will `offline`, explicit `offline` on stop),
 * - pins a device's keys from its first `hello` (proved with the join secret),
 * - stores audit batches exactly once and acknowledges them (signed, so nobody else can make a
 *   device forget its outbox),
 * - answers `sync` requests with need-to-know `changes` pages and announces new register heads,
 * - sends commands (unlock, resync, enrol-here) and matches their responses by transaction id.
 * Every message up is verified against the key pinned for the device named in the topic.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../core/fs/atomic.ts';
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createLogger } from '../../core/log/logger.ts';
import { bodySchemas, GATEWAY, parseTopic, SECOND_TEMPLATES_FEATURE, topics, ttlMs, type DownBody, type DownKind, type UpBody, type UpKind } from '../../core/sync/contract.ts';
import { keyId, SequenceSource, signEnvelope, verifyEnvelope, type RejectReason } from '../../core/sync/envelope.ts';
import { importPublicKey, type KeySet } from '../../core/sync/keys.ts';
import { openEmbedding, type SealedBox } from '../../core/sync/seal.ts';
import { EMBEDDING_SIZE } from '../../core/vision/embedder.ts';
import type { GatewayStore } from '../store/types.ts';
import { buildChanges } from './changes.ts';
import { checkHello } from './hello.ts';
import type { GatewaySyncConfig } from './config.ts';

const log = createLogger('sync');

function readSeqFloor(file: string | undefined): number {
  if (!file || !existsSync(file)) return 0;
  const n = Number(readFileSync(file, 'utf8').trim());
  return Number.isFinite(n) && n > 0 ? n : 0;
}

export interface CommandResult {
  ok: boolean;
  error?: string;
  result?: Record<string, unknown>;
}

export interface GatewaySyncDeps {
  config: GatewaySyncConfig;
  store: GatewayStore;
  keys: KeySet;
  /** Where the gateway's own client connects, with its credentials. */
  broker: { url: string; username: string; password: string; ca?: string };
  /** Where the highest message sequence issued is kept (one number, written at most once a second). */
  seqFile?: string;
  /** Add a template captured at a door (enrol-here); returns what the HTTP layer shows. */
  addTemplate?: (personId: string, embedding: Float32Array, source: string) => Promise<Record<string, unknown>> | Record<string, unknown>;
  metrics?: {
    ingested?(n: number, duplicates: number): void;
    message?(type: string): void;
    rejected?(reason: string): void;
  };
  now?: () => number;
}

type Pending = { deviceId: string; command: string; personId?: string; resolve: (r: CommandResult) => void; timer: NodeJS.Timeout };

export class GatewaySync extends EventEmitter {
  private client: MqttClient | undefined;
  private readonly seq: SequenceSource;
  private readonly kid: string;
  private readonly lastUpSeq = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  /**
   * Snapshots in progress per device: the id the device echoes and the cursor its last page
   * ended at. A page continues a snapshot only when both match, so neither a stale cursor nor
   * a purged tombstone can restart or skip one; lost on restart, which only means a new snapshot.
   */
  private readonly snapshots = new Map<string, { id: string; to: number; done: boolean }>();
  private notifyTimer: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  /**
   * When devices were last heard asking for changes, written in one transaction a second: a
   * durable write per sync request (an fsync each) made a fan-out to 200 devices wait on the
   * disk. Their cursors come from their status messages, which report what they applied.
   */
  private readonly lastSeen = new Map<string, number>();
  private batchTimer: NodeJS.Timeout | undefined;
  private savedSeq = 0;
  private securityLogged = { minute: 0, count: 0 };
  private readonly now: () => number;

  constructor(private readonly deps: GatewaySyncDeps) {
    super();
    this.now = deps.now ?? Date.now;
    // Sequences follow the clock; the highest one issued is kept too, so a clock set back across
    // a restart cannot make every device refuse the gateway as a replay.
    const floor = readSeqFloor(deps.seqFile);
    this.seq = new SequenceSource(floor, this.now);
    this.kid = keyId(deps.keys.sign.publicKey);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async start(): Promise<void> {
    const { broker } = this.deps;
    const opts: IClientOptions = {
      // A dot cannot appear in a device id, so no device can take over the gateway's session.
      clientId: `portier-gateway.${randomUUID().slice(0, 8)}`,
      username: broker.username,
      password: broker.password,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      will: { topic: topics.gatewayAvailability(), payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(broker.ca ? { ca: broker.ca } : {}),
    };
    const client = mqtt.connect(broker.url, opts);
    this.client = client;
    client.on('connect', () => void this.onConnect());
    client.on('message', (topic, payload, packet) => {
      try {
        this.onMessage(topic, payload, packet.retain);
      } catch (err) {
        log.error('message handling failed', { topic, error: (err as Error).message });
      }
    });
    client.on('error', (err) => log.warn('broker connection error', { error: err.message }));
    client.on('offline', () => this.emit('offline'));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`gateway cannot reach the broker at ${broker.url}`)), 15_000);
      client.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.purgeTimer = setInterval(() => this.purge(), this.deps.config.purgeIntervalMs);
    this.purgeTimer.unref();
    this.batchTimer = setInterval(() => this.flushBatched(), 1000);
    this.batchTimer.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.notifyTimer);
    clearInterval(this.purgeTimer);
    clearInterval(this.batchTimer);
    this.flushBatched();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve({ ok: false, error: 'gateway stopping' });
    }
    this.pending.clear();
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    if (c.connected) await c.publishAsync(topics.gatewayAvailability(), 'offline', { qos: 1, retain: true }).catch(() => undefined);
    await c.endAsync();
  }

  private async onConnect(): Promise<void> {
    const c = this.client!;
    try {
      await c.subscribeAsync([topics.allUp(), topics.allAvailability()], { qos: 1 });
      await c.publishAsync(topics.gatewayAvailability(), 'online', { qos: 1, retain: true });
      log.info('gateway sync connected', { broker: this.deps.broker.url });
      this.emit('connected');
    } catch (err) {
      log.error('subscribe failed', { error: (err as Error).message });
    }
  }

  /** Tell every joined device that the register moved on (debounced). */
  registerChanged(): void {
    if (this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      try {
        const head = this.deps.store.register.head();
        for (const d of this.deps.store.devices.list()) if (d.signPublicKey) this.publish(d.id, 'notify', { head });
      } catch (err) {
        log.error('register change could not be announced', { error: (err as Error).message });
      }
    }, this.deps.config.notifyDebounceMs);
  }

  /** Send a command and wait for its response (or a timeout). */
  command(deviceId: string, command: 'unlock' | 'resync' | 'enrol-here', args: { reason?: string; personId?: string; timeoutMs?: number }, actor: string): Promise<CommandResult> {
    const device = this.deps.store.devices.get(deviceId);
    if (!device) return Promise.resolve({ ok: false, error: `unknown device ${deviceId}` });
    if (!device.signPublicKey) return Promise.resolve({ ok: false, error: `device ${deviceId} has not joined yet` });
    if (!this.connected) return Promise.resolve({ ok: false, error: 'gateway is not connected to the broker' });
    const tid = randomUUID();
    const timeoutMs = command === 'enrol-here' ? (args.timeoutMs ?? this.deps.config.enrolHereTimeoutMs) : this.deps.config.commandTimeoutMs;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(tid);
        resolve({ ok: false, error: `no response from ${deviceId} within ${timeoutMs} ms` });
      }, timeoutMs + 2000);
      this.pending.set(tid, { deviceId, command, personId: args.personId, resolve, timer });
      const body: DownBody<'command'> = { tid, command, actor, args: { ...args, ...(command === 'enrol-here' ? { timeoutMs } : {}) } };
      this.publish(deviceId, 'command', body);
    });
  }

  private publish<K extends DownKind>(deviceId: string, kind: K, body: DownBody<K>): void {
    const c = this.client;
    if (!c?.connected) return;
    const env = signEnvelope({ type: kind, from: GATEWAY, to: deviceId, seq: this.seq.next(), body, privateKey: this.deps.keys.sign.privateKey, kid: this.kid, ttlMs: ttlMs[kind], now: this.now() });
    c.publish(topics.down(deviceId, kind), JSON.stringify(env), { qos: 1 }, (err) => {
      if (err) log.warn('publish failed', { deviceId, kind, error: err.message });
    });
    this.deps.metrics?.message?.(kind);
  }

  private onMessage(topic: string, payload: Buffer, retained = false): void {
    const t = parseTopic(topic);
    if (!t) return;
    if (t.scope === 'device-availability') {
      const d = this.deps.store.devices.get(t.deviceId);
      const text = payload.toString();
      if (d && (text === 'online' || text === 'offline')) {
        this.deps.store.devices.update(t.deviceId, { online: text === 'online', lastSeen: this.now() });
        this.emit('availability', t.deviceId, text);
      }
      return;
    }
    if (t.scope !== 'up' || payload.length === 0) return;
    this.onUp(t.deviceId, t.kind, payload, topic, retained);
  }

  private onUp(deviceId: string, kind: UpKind, payload: Buffer, topic: string, retained: boolean): void {
    const device = this.deps.store.devices.get(deviceId);
    if (!device) return this.reject(deviceId, kind, topic, 'not_for_me', 'unknown device');
    if (kind === 'hello') return this.onHello(deviceId, payload, topic);
    if (!device.signPublicKey) return this.reject(deviceId, kind, topic, 'wrong_key', 'device has not joined (no pinned key)');
    const pub = importPublicKey(device.signPublicKey, 'Ed25519');
    const v = verifyEnvelope<unknown>(payload, { type: kind, from: deviceId, to: GATEWAY, publicKey: pub, kid: keyId(device.signPublicKey), afterSeq: this.lastUpSeq.get(deviceId), now: this.now() });
    // An old retained status seen at start-up is stale news, not an attack.
    if (!v.ok && retained && kind === 'status' && v.reason === 'expired') return;
    if (!v.ok) return this.reject(deviceId, kind, topic, v.reason, v.message);
    const parsed = bodySchemas.up[kind].safeParse(v.envelope.body);
    if (!parsed.success) return this.reject(deviceId, kind, topic, 'malformed', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    this.lastUpSeq.set(deviceId, v.envelope.seq);
    this.deps.metrics?.message?.(`up_${kind}`);
    switch (kind) {
      case 'audit':
        return this.onAudit(deviceId, parsed.data as UpBody<'audit'>);
      case 'status': {
        const s = parsed.data as UpBody<'status'>;
        this.deps.store.devices.update(deviceId, { status: s as unknown as Record<string, unknown>, cursor: s.cursor, lastSeen: this.now(), online: true });
        this.emit('status', deviceId, s);
        return;
      }
      case 'sync':
        return this.onSync(deviceId, parsed.data as UpBody<'sync'>);
      case 'response':
        return this.onResponse(deviceId, parsed.data as UpBody<'response'>);
    }
  }

  private onHello(deviceId: string, payload: Buffer, topic: string): void {
    const v = checkHello(this.deps.store.devices.get(deviceId)!, payload, this.now());
    if (v.kind === 'reject') return this.reject(deviceId, 'hello', topic, v.reason, v.message);
    if (v.kind === 'known') return;
    this.deps.store.transaction(() => {
      this.deps.store.devices.setKeys(deviceId, v.hello.signPublicKey, v.hello.sealPublicKey);
      this.deps.store.devices.update(deviceId, { joinSecretHash: null, snapshotRequired: true, lastSeen: this.now() });
    });
    log.info('device joined; keys pinned', { deviceId, software: v.hello.software });
    this.emit('joined', deviceId);
    this.publish(deviceId, 'notify', { head: this.deps.store.register.head() });
  }

  private onAudit(deviceId: string, body: UpBody<'audit'>): void {
    // Committed (synchronous=FULL) before the ack goes out: an acked event is durable here.
    const r = this.deps.store.audit.ingest(deviceId, body.events);
    const upTo = Math.max(...body.events.map((e) => e.seq));
    this.deps.metrics?.ingested?.(r.inserted, r.duplicates);
    this.publish(deviceId, 'ack', { upTo, received: r.inserted, duplicates: r.duplicates });
    if (r.inserted > 0) this.emit('audit', deviceId, r.inserted);
  }

  private onSync(deviceId: string, body: UpBody<'sync'>): void {
    const store = this.deps.store;
    let device = store.devices.get(deviceId)!;
    const snap = this.snapshots.get(deviceId);
    const echoed = !!snap && body.snapshot === snap.id;
    if (echoed && snap.done) {
      // The device applied the whole snapshot (keep list included): its register is whole again.
      this.snapshots.delete(deviceId);
      if (device.snapshotRequired) device = store.devices.update(deviceId, { snapshotRequired: false });
    }
    const continuing = echoed && !snap.done && body.cursor === snap.to;
    const changes = buildChanges(store, device, body.cursor, {
      pageSize: this.deps.config.pageSize,
      tid: body.tid,
      now: this.now(),
      continuing,
      secondTemplates: body.features?.includes(SECOND_TEMPLATES_FEATURE) ?? false,
    });
    if (changes.reset || continuing) {
      const id = continuing ? snap!.id : randomUUID();
      this.snapshots.set(deviceId, { id, to: changes.to, done: !changes.more });
      changes.snapshot = id;
    }
    this.lastSeen.set(deviceId, this.now());
    this.publish(deviceId, 'changes', changes);
  }

  private onResponse(deviceId: string, body: UpBody<'response'>): void {
    const p = this.pending.get(body.tid);
    if (!p || p.deviceId !== deviceId) return;
    this.pending.delete(body.tid);
    clearTimeout(p.timer);
    if (p.command !== 'enrol-here' || !body.ok) return p.resolve({ ok: body.ok, error: body.error, result: body.result });
    void (async () => {
      try {
        if (!p.personId || !this.deps.addTemplate) throw new Error('enrol-here without a person');
        const box = body.result?.template as SealedBox | undefined;
        if (!box) throw new Error('device sent no template');
        const embedding = openEmbedding(this.deps.keys.seal.privateKey, GATEWAY, p.personId, box);
        // One template of another size would make every device refuse the pages that carry it.
        if (embedding.length !== EMBEDDING_SIZE) throw new Error(`device sent a ${embedding.length}-value template; this gateway's engine makes ${EMBEDDING_SIZE}`);
        const added = await this.deps.addTemplate(p.personId, embedding, 'enrol-here');
        const { template: _sealed, ...rest } = body.result ?? {};
        p.resolve({ ok: true, result: { ...rest, ...added } });
      } catch (err) {
        p.resolve({ ok: false, error: (err as Error).message });
      }
    })();
  }

  private reject(deviceId: string, kind: string, topic: string, reason: RejectReason, message: string): void {
    this.deps.metrics?.rejected?.(reason);
    const minute = Math.floor(this.now() / 60_000);
    if (this.securityLogged.minute !== minute) this.securityLogged = { minute, count: 0 };
    // A flood of forged messages must not fill the disk: at most 20 security records a minute.
    if (++this.securityLogged.count > 20) return;
    log.warn('message from the broker refused', { deviceId, kind, reason, message });
    try {
      this.deps.store.audit.ingest(deviceId, [{ id: randomUUID(), ts: this.now(), kind: 'security', body: { reason: `rejected:${reason}`, topic, kind, message, at: 'gateway' } }]);
    } catch (err) {
      log.error('security event could not be recorded', { error: (err as Error).message });
    }
    this.emit('rejected', { deviceId, kind, reason, message });
  }

  /** The once-a-second writes: the sequence high-water mark and when devices last asked. */
  private flushBatched(): void {
    if (this.deps.seqFile && this.seq.current > this.savedSeq) {
      try {
        writeFileAtomicSync(this.deps.seqFile, `${this.seq.current}\n`, 0o600);
        this.savedSeq = this.seq.current;
      } catch (err) {
        log.warn('sequence high-water mark not saved', { error: (err as Error).message });
      }
    }
    if (!this.lastSeen.size) return;
    const batch = [...this.lastSeen];
    this.lastSeen.clear();
    try {
      this.deps.store.transaction(() => {
        for (const [id, at] of batch) if (this.deps.store.devices.get(id)) this.deps.store.devices.update(id, { lastSeen: at });
      });
    } catch (err) {
      log.error('device last-seen times could not be saved', { error: (err as Error).message });
    }
  }

  private purge(): void {
    try {
      const r = this.deps.store.register.purgeTombstones();
      if (r.purged) log.info('register tombstones purged', r);
    } catch (err) {
      log.error('tombstone purge failed', { error: (err as Error).message });
    }
  }
}
