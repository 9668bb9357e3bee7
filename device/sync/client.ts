/**
 * The device side of MQTT sync, wired from one deps object: announce (availability, hello,
 * status), ask for register changes after the local cursor, drain the audit outbox in acked
 * batches, and run gateway commands. Everything from the gateway is verified (verify.ts) and its
 * sequence persisted before anything acts on it. Broker or gateway away: the device keeps
 * deciding on its local gallery; mqtt.js reconnects and the sync picks up where it was.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createLogger } from '../../core/log/logger.ts';
import { helloProof } from '../../core/sync/bundle.ts';
import { topics } from '../../core/sync/contract.ts';
import { publicKeys } from '../../core/sync/keys.ts';
import { applyChanges } from './apply-changes.ts';
import { CommandRunner } from './commands.ts';
import { AuditDrain } from './drain.ts';
import { RegisterSync } from './register.ts';
import { loadSyncSecrets } from './secrets.ts';
import { type Rejection, SecurityRecorder } from './security.ts';
import { SyncState } from './state.ts';
import { OutboxCapWatch, statusBody } from './status.ts';
import type { SyncDeps, SyncStatus } from './types.ts';
import { UpLink } from './uplink.ts';
import { DownVerifier } from './verify.ts';

const log = createLogger('sync');

export type { SyncDeps, SyncMetricsSink, SyncStatus } from './types.ts';

/** Events: 'connected' (boolean), 'applied' (ApplySummary), 'rejected' (Rejection), 'acked' ({ upTo, removed }), 'command' (response body). */
export class SyncClient extends EventEmitter {
  private client!: MqttClient;
  private readonly now: () => number;
  private readonly state: SyncState;
  private readonly up: UpLink;
  private readonly verifier: DownVerifier;
  private readonly security: SecurityRecorder;
  private readonly drain: AuditDrain;
  private readonly commands: CommandRunner;
  private readonly cap: OutboxCapWatch;
  private queue: Promise<void> = Promise.resolve();
  private readonly register: RegisterSync;
  private gatewayOnline: boolean | null = null;
  private lastSyncAt: number | null = null;
  private statusTimer: NodeJS.Timeout | undefined;
  private statusSoon: NodeJS.Timeout | undefined;
  private stopped = false;
  private drainScheduled = false;
  private statusWarned = false;

  constructor(private readonly d: SyncDeps, private readonly secrets: ReturnType<typeof loadSyncSecrets>) {
    super();
    this.now = d.now ?? Date.now;
    this.state = new SyncState(d.store.settings);
    const s = this.state.current;
    const { keys } = secrets;
    this.up = new UpLink({ deviceId: d.deviceId, signPrivateKey: keys.sign.privateKey, signPublicKey: keys.sign.publicKey, now: this.now, onPublish: d.onPublish });
    this.verifier = new DownVerifier({ deviceId: d.deviceId, gatewaySignPublicKey: s.gateway.signPublicKey, skewMs: d.config.skewMs, now: this.now });
    this.security = new SecurityRecorder({ audit: d.audit, now: this.now, onReject: (r) => this.onRejected(r) });
    this.drain = new AuditDrain({ outbox: d.store.outbox, uplink: this.up, batchSize: d.config.batchSize, ackTimeoutMs: d.config.ackTimeoutMs, gatewayReachable: () => this.gatewayOnline !== false, now: this.now });
    this.register = new RegisterSync({
      state: this.state,
      up: this.up,
      ackTimeoutMs: d.config.ackTimeoutMs,
      gatewayReachable: () => this.gatewayOnline !== false,
      apply: (body) => applyChanges({ deviceId: d.deviceId, store: d.store, gallery: d.gallery, state: this.state, sealPrivateKey: secrets.keys.seal.privateKey }, body),
      onRefused: (message) => this.security.record({ reason: 'unsealable', topic: topics.down(d.deviceId, 'changes'), kind: 'changes', message }),
    });
    this.commands = new CommandRunner({
      door: d.door,
      audit: d.audit,
      resync: () => this.register.resync(),
      captureEnrolment: d.captureEnrolment,
      gatewaySealPublicKey: s.gateway.sealPublicKey,
      respond: (r) => {
        this.emit('command', r);
        void this.up.send('response', r);
      },
    });
    this.cap = new OutboxCapWatch({ cap: d.config.outboxCap, warnFraction: d.config.outboxWarnFraction, onNearCap: (n) => d.metrics?.nearCap?.(n), now: this.now });
  }

  /** Called by startSync. */
  connect(): void {
    const s = this.state.current;
    const { config, deviceId } = this.d;
    const url = config.brokerUrl ?? s.broker.url;
    const opts: IClientOptions = {
      clientId: deviceId,
      username: s.broker.username,
      password: this.secrets.password,
      clean: true,
      reconnectPeriod: config.reconnectPeriodMs,
      connectTimeout: 10_000,
      ...(this.secrets.ca ? { ca: this.secrets.ca } : {}),
      will: { topic: topics.deviceAvailability(deviceId), payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    this.client = (this.d.mqttConnect ?? mqtt.connect)(url, opts);
    this.up.client = this.client;
    this.client.on('connect', () => void this.onConnect().catch((err) => log.error('announce after connect failed', { error: (err as Error).message })));
    this.client.on('close', () => this.setConnected(false));
    let lastErrorLog = -Infinity;
    this.client.on('error', (err) => {
      // mqtt.js retries every reconnectPeriodMs; while the broker is away one line a minute is enough.
      if (this.now() - lastErrorLog < 60_000) return;
      lastErrorLog = this.now();
      log.warn('broker connection error; retrying', { url, error: err.message, everyMs: config.reconnectPeriodMs });
    });
    this.client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    this.d.metrics?.cursor?.(s.cursor ?? 0);
    this.cap.check(this.d.store.outbox.count());
    this.statusTimer = setInterval(() => this.publishStatus(), config.statusIntervalMs);
    this.statusTimer.unref?.();
  }

  status(): SyncStatus {
    return {
      connected: this.up.connected,
      gatewayOnline: this.gatewayOnline,
      cursor: this.state.current.cursor,
      lastSyncAt: this.lastSyncAt,
      rejected: { ...this.security.counts },
      outboxDepth: this.d.store.outbox.count(),
      outboxNearCap: this.cap.near,
      outboxFull: this.cap.full,
    };
  }

  /** Call after every audit append: checks the cap and drains promptly. */
  /**
   * Called from the door's audit path (before the relay moves): it only schedules the drain, so
   * reading and signing a batch never delays a release and a sync error can never refuse one.
   */
  notifyOutbox(): void {
    if (this.stopped) return;
    try {
      // count() is kept in memory: cheap enough for the door's path.
      this.cap.check(this.d.store.outbox.count());
    } catch (err) {
      log.error('outbox cap check failed', { error: (err as Error).message });
    }
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      try {
        this.drain.kick();
      } catch (err) {
        log.error('audit drain could not start', { error: (err as Error).message });
      }
    });
  }

  /** Door, camera or gallery changed: publish the status soon (coalesced). */
  notifyState(): void {
    if (this.statusSoon || this.stopped) return;
    this.statusSoon = setTimeout(() => {
      this.statusSoon = undefined;
      this.publishStatus();
    }, 250);
    this.statusSoon.unref?.();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.drain.stop();
    this.register.stop();
    for (const t of [this.statusTimer, this.statusSoon]) if (t) clearTimeout(t);
    await this.queue;
    // Short waits: the door stops after sync, and a broker that vanished would otherwise hold the
    // shutdown for seconds; the last will says `offline` for us then.
    try {
      if (this.up.connected) await withTimeout(this.up.availability('offline'), 500);
    } catch (err) {
      log.warn('could not publish offline before disconnecting (the broker publishes the last will)', { error: (err as Error).message });
    }
    await withTimeout(this.client.endAsync(), 500).catch(() => this.client.end(true));
    this.setConnected(false);
  }

  private setConnected(up: boolean): void {
    if (!up) this.gatewayOnline = null;
    this.d.metrics?.connected?.(up);
    this.emit('connected', up);
  }

  private async onConnect(): Promise<void> {
    const { deviceId } = this.d;
    log.info('connected to the broker', { deviceId });
    const grants = await this.client.subscribeAsync([topics.deviceDown(deviceId), topics.gatewayAvailability()], { qos: 1 });
    for (const g of grants) if (g.qos === 128) log.error('broker refused a subscription (check the ACL for this device)', { topic: g.topic });
    await this.up.availability('online');
    this.setConnected(true);
    this.announce();
  }

  /** hello (until confirmed), status, sync request, and the audit batch again. */
  private announce(): void {
    const s = this.state.current;
    if (s.joinKey) {
      const pub = publicKeys(this.secrets.keys);
      const proof = helloProof(s.joinKey, this.d.deviceId, pub.signPublicKey, pub.sealPublicKey);
      void this.up.send('hello', { ...pub, proof, software: this.software() });
    }
    this.publishStatus();
    this.register.restart();
    this.drain.restart();
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (topic === topics.gatewayAvailability()) {
      const v = payload.toString('utf8');
      const was = this.gatewayOnline;
      this.gatewayOnline = v === 'online' ? true : v === 'offline' ? false : this.gatewayOnline;
      // A live (not retained) `online` is a gateway that has just (re)started, maybe without its
      // `offline` reaching us first: it may have missed what was in flight.
      if (v === 'online' && (was === false || !retained)) {
        log.info('gateway is back online; announcing again');
        this.announce();
      }
      return;
    }
    this.queue = this.queue.then(() => this.handleDown(topic, payload)).catch((err) => log.error('gateway message handling failed', { topic, error: (err as Error).message }));
  }

  private async handleDown(topic: string, payload: Buffer): Promise<void> {
    if (this.stopped) return;
    const v = this.verifier.verify(topic, payload, this.state.current.lastDownSeq);
    if (!v.ok) return this.security.record({ reason: v.reason, topic, kind: v.kind, message: v.message });
    try {
      await this.state.update({ lastDownSeq: v.envelope.seq });
    } catch (err) {
      log.error('could not persist the gateway sequence; message not acted on', { kind: v.kind, error: (err as Error).message });
      return;
    }
    switch (v.kind) {
      case 'ack': {
        const removed = this.drain.onAck(v.body.upTo);
        this.lastSyncAt = this.now();
        this.cap.check(this.d.store.outbox.count());
        this.reportLag();
        this.emit('acked', { upTo: v.body.upTo, removed });
        await this.confirmHello();
        return;
      }
      case 'changes': {
        const summary = await this.register.onChanges(v.body);
        if (!summary) return;
        this.lastSyncAt = this.now();
        this.d.metrics?.cursor?.(summary.to);
        this.emit('applied', summary);
        this.notifyState();
        await this.confirmHello();
        return;
      }
      case 'command':
        // Not awaited: an enrol-here capture must not hold up acks and changes.
        void this.commands.run(v.body);
        return;
      case 'notify':
        this.register.onNotify(v.body.head);
        return;
    }
  }

  /** The gateway answered with an ack or a page sealed to our key: it knows the device's keys. */
  private async confirmHello(): Promise<void> {
    if (!this.state.current.joinKey) return;
    await this.state.update({ joinKey: null, confirmedAt: new Date(this.now()).toISOString() });
    log.info('gateway has accepted this device; join secret digest removed');
  }

  private publishStatus(): void {
    this.cap.check(this.d.store.outbox.count());
    this.reportLag();
    if (!this.up.connected) return;
    let body;
    try {
      body = statusBody(this.d.state(), { outboxCap: this.d.config.outboxCap, cursor: this.state.current.cursor, securityRejections: this.security.total });
    } catch (err) {
      body = { error: (err as Error).message };
    }
    if ('error' in body) {
      if (!this.statusWarned) log.warn('device status does not match the contract; not published', { error: body.error });
      this.statusWarned = true;
      return;
    }
    void this.up.send('status', body, { retain: true });
  }

  private reportLag(): void {
    if (!this.d.metrics?.lagSeconds) return;
    try {
      const oldest = this.d.store.outbox.peek(1)[0];
      this.d.metrics.lagSeconds(oldest ? Math.max(0, (this.now() - oldest.ts) / 1000) : 0);
    } catch (err) {
      log.warn('outbox lag not readable', { error: (err as Error).message });
    }
  }

  private software(): string {
    try {
      return this.d.state().versions.software;
    } catch {
      return 'unknown';
    }
  }

  private onRejected(r: Rejection): void {
    this.d.metrics?.rejected?.(r.reason);
    this.emit('rejected', r);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

/** Start sync for a joined device. Connects in the background: a broker that is down does not block start-up. */
export async function startSync(deps: SyncDeps): Promise<SyncClient> {
  const state = new SyncState(deps.store.settings);
  const s = state.current;
  if (s.deviceId !== deps.deviceId) {
    throw new Error(`this device joined the gateway as "${s.deviceId}" but is configured as "${deps.deviceId}"; set deviceId to "${s.deviceId}" or join again`);
  }
  const client = new SyncClient(deps, loadSyncSecrets(deps.store.config.dir, deps.config));
  client.connect();
  return client;
}
