/**
 * A light simulated device for the gateway bench. It speaks the real protocol over real MQTT
 * (its own key set, the bundle's broker credentials, a signed hello with the join proof, signed
 * audit batches with one in flight, sync requests after notify, every gateway message verified
 * against the pinned gateway key and every sealed template opened with its own X25519 key) but
 * leaves out the daemon's camera, engine and SQLite stores, so 200 of them fit in one process.
 * Anything that fails verification is kept in `rejections`; the bench refuses to report then.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { helloProof, joinKey, type Bundle } from '../../core/sync/bundle.ts';
import { bodySchemas, GATEWAY, parseTopic, topics, ttlMs, type DownBody, type UpBody, type UpKind, type WireEvent } from '../../core/sync/contract.ts';
import { keyId, SequenceSource, signEnvelope, verifyEnvelope } from '../../core/sync/envelope.ts';
import { generateKeySet, importPublicKey, publicKeys, type KeySet } from '../../core/sync/keys.ts';
import { openEmbedding } from '../../core/sync/seal.ts';

type Changes = DownBody<'changes'>;
type Ack = DownBody<'ack'>;

export class SimDevice {
  readonly id: string;
  private readonly keys: KeySet = generateKeySet();
  private readonly kid: string;
  private readonly gatewayKey: KeyObject;
  private readonly gatewayKid: string;
  private readonly upSeq = new SequenceSource();
  /** Last accepted gateway sequence: anything not above it is a replay. */
  private downSeq = 0;
  private client: MqttClient | undefined;
  cursor: number | null = null;
  /** Snapshot id of the last page applied (echoed in the next sync request). */
  private snapshot: string | undefined;
  /** Latest head announced by a notify or a changes page. */
  head = 0;
  joined = false;
  /** Person id -> templates that opened with this device's key. */
  readonly gallery = new Map<string, number>();
  readonly rejections: string[] = [];
  private inflight: string | null = null;
  private again = false;
  private ackWaiter: { upTo: number; resolve: (a: Ack) => void } | null = null;
  /** Re-checked after every verified message; see until(). */
  private readonly waiters = new Set<() => void>();

  constructor(private readonly bundle: Bundle) {
    this.id = bundle.deviceId;
    this.kid = keyId(this.keys.sign.publicKey);
    this.gatewayKey = importPublicKey(bundle.gateway.signPublicKey, 'Ed25519');
    this.gatewayKid = keyId(bundle.gateway.signPublicKey);
  }

  /** Connect, subscribe to the own down topics and announce the keys with the join proof. */
  async connect(): Promise<void> {
    const { broker } = this.bundle;
    // No reconnects: a dropped connection in a bench is a failure to see, not to paper over.
    const client = mqtt.connect(broker.url, {
      clientId: this.id,
      username: broker.username,
      password: broker.password,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 15_000,
      will: { topic: topics.deviceAvailability(this.id), payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const grants = await client.subscribeAsync(topics.deviceDown(this.id), { qos: 1 });
    if (grants.some((g) => g.qos === 128)) throw new Error(`${this.id}: broker refused the down subscription`);
    await client.publishAsync(topics.deviceAvailability(this.id), 'online', { qos: 1, retain: true });
    const pub = publicKeys(this.keys);
    const proof = helloProof(joinKey(this.bundle.joinSecret), this.id, pub.signPublicKey, pub.sealPublicKey);
    await this.send('hello', { ...pub, proof, software: 'portier-bench' });
  }

  /** Joined (the gateway pinned the keys and sent a notify) and at the head, nothing asked. */
  get synced(): boolean {
    return this.joined && this.cursor !== null && this.cursor >= this.head && !this.inflight;
  }

  /** Resolves once pred() holds after some message (or at once); rejects after timeoutMs. */
  until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.id}: ${what} not reached within ${timeoutMs} ms (rejections: ${this.rejections.join('; ') || 'none'})`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Publish one audit batch and wait for its signed ack (one batch in flight, like the daemon). */
  async sendAudit(events: WireEvent[], timeoutMs = 60_000): Promise<Ack> {
    if (this.ackWaiter) throw new Error(`${this.id}: an audit batch is already in flight`);
    const upTo = Math.max(...events.map((e) => e.seq));
    let ack: Ack | undefined;
    this.ackWaiter = { upTo, resolve: (a) => (ack = a) };
    try {
      await this.send('audit', { events });
      await this.until(() => ack !== undefined, timeoutMs, `ack of audit batch up to ${upTo}`);
    } finally {
      this.ackWaiter = null;
    }
    return ack!;
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    if (c.connected) await c.publishAsync(topics.deviceAvailability(this.id), 'offline', { qos: 1, retain: true }).catch(() => undefined);
    await Promise.race([c.endAsync(), new Promise((r) => setTimeout(r, 2000))]).catch(() => c.end(true));
  }

  private async send<K extends UpKind>(kind: K, body: UpBody<K>): Promise<void> {
    const env = signEnvelope({ type: kind, from: this.id, to: GATEWAY, seq: this.upSeq.next(), body, privateKey: this.keys.sign.privateKey, kid: this.kid, ttlMs: ttlMs[kind] });
    await this.client!.publishAsync(topics.up(this.id, kind), JSON.stringify(env), { qos: 1 });
  }

  private requestSync(): void {
    if (this.inflight) {
      this.again = true;
      return;
    }
    this.again = false;
    this.inflight = randomUUID();
    void this.send('sync', { tid: this.inflight, cursor: this.cursor, ...(this.snapshot ? { snapshot: this.snapshot } : {}) }).catch((err) => this.rejections.push(`sync publish failed: ${(err as Error).message}`));
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (!t || t.scope !== 'down' || t.deviceId !== this.id) return void this.rejections.push(`unexpected topic ${topic}`);
    const v = verifyEnvelope(payload, { type: t.kind, from: GATEWAY, to: this.id, publicKey: this.gatewayKey, kid: this.gatewayKid, afterSeq: this.downSeq });
    if (!v.ok) return void this.rejections.push(`${t.kind}: ${v.reason} (${v.message})`);
    const parsed = bodySchemas.down[t.kind].safeParse(v.envelope.body);
    if (!parsed.success) return void this.rejections.push(`${t.kind}: invalid body`);
    this.downSeq = v.envelope.seq;
    if (t.kind === 'notify') {
      this.joined = true;
      this.head = Math.max(this.head, (parsed.data as DownBody<'notify'>).head);
      if (this.cursor === null || this.head > this.cursor) this.requestSync();
    } else if (t.kind === 'changes') this.onChanges(parsed.data as Changes);
    else if (t.kind === 'ack') {
      const a = parsed.data as Ack;
      if (this.ackWaiter && a.upTo >= this.ackWaiter.upTo) {
        const w = this.ackWaiter;
        this.ackWaiter = null;
        w.resolve(a);
      }
    }
    for (const w of [...this.waiters]) w();
  }

  private onChanges(body: Changes): void {
    const mine = this.inflight !== null && body.tid === this.inflight;
    if (mine) this.inflight = null;
    // A late page for an older cursor would move the cursor back: ignored (and asked again), as on the device.
    if (body.from !== this.cursor) {
      if (mine) this.requestSync();
      return;
    }
    // Every template opens, or the whole page is refused (as the device's applyChanges does).
    const opened = new Map<string, number>();
    for (const p of body.people) {
      try {
        opened.set(p.id, p.templates.map((box) => openEmbedding(this.keys.seal.privateKey, this.id, p.id, box)).length);
      } catch (err) {
        this.rejections.push(`changes: template of ${p.id} does not open (${(err as Error).message})`);
        return;
      }
    }
    for (const id of body.deleted) this.gallery.delete(id);
    if (body.reset && body.keep) {
      const keep = new Set([...body.keep, ...opened.keys()]);
      for (const id of this.gallery.keys()) if (!keep.has(id)) this.gallery.delete(id);
    }
    for (const [id, n] of opened) this.gallery.set(id, n);
    this.cursor = body.to;
    this.head = Math.max(this.head, body.head);
    // As the device does: echo the snapshot id to continue it, and once more to confirm its end.
    const closeSnapshot = !!body.snapshot && !body.more;
    this.snapshot = body.snapshot;
    if (body.more || this.again || closeSnapshot || this.cursor < this.head) this.requestSync();
  }
}
