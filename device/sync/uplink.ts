/**
 * Messages up: signed by the device's own Ed25519 key, QoS 1. Sequence numbers come from the
 * wall clock in microseconds (SequenceSource), so they keep increasing across restarts without
 * a write per message.
 */
import type { KeyObject } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { createLogger } from '../../core/log/logger.ts';
import { GATEWAY, topics, ttlMs, type UpBody, type UpKind } from '../../core/sync/contract.ts';
import { keyId, SequenceSource, signEnvelope } from '../../core/sync/envelope.ts';

const log = createLogger('sync');

export interface UpLinkOptions {
  deviceId: string;
  signPrivateKey: KeyObject;
  signPublicKey: KeyObject;
  now: () => number;
  /** Every payload published, for tests and audits of what leaves the device. */
  onPublish?: (topic: string, payload: string) => void;
}

export class UpLink {
  private readonly seq: SequenceSource;
  private readonly kid: string;
  client: MqttClient | null = null;

  constructor(private readonly o: UpLinkOptions) {
    this.seq = new SequenceSource(0, o.now);
    this.kid = keyId(o.signPublicKey);
  }

  get connected(): boolean {
    return !!this.client?.connected;
  }

  encode<K extends UpKind>(kind: K, body: UpBody<K>): string {
    const env = signEnvelope({ type: kind, from: this.o.deviceId, to: GATEWAY, seq: this.seq.next(), body, privateKey: this.o.signPrivateKey, kid: this.kid, ttlMs: ttlMs[kind], now: this.o.now() });
    return JSON.stringify(env);
  }

  /**
   * Publish when connected; false (nothing queued) when not: every kind is re-sent on reconnect
   * from the state it describes, so mqtt.js's offline queue would only add stale duplicates.
   */
  async send<K extends UpKind>(kind: K, body: UpBody<K>, opts: { retain?: boolean } = {}): Promise<boolean> {
    const client = this.client;
    if (!client?.connected) return false;
    const topic = topics.up(this.o.deviceId, kind);
    let payload: string;
    try {
      payload = this.encode(kind, body);
    } catch (err) {
      log.error('message could not be encoded; not sent', { kind, error: (err as Error).message });
      return false;
    }
    this.o.onPublish?.(topic, payload);
    try {
      await client.publishAsync(topic, payload, { qos: 1, retain: !!opts.retain });
      return true;
    } catch (err) {
      log.debug('publish failed (will be re-sent)', { kind, error: (err as Error).message });
      return false;
    }
  }

  /** Plain-text retained availability. */
  async availability(value: 'online' | 'offline'): Promise<void> {
    const client = this.client;
    if (!client?.connected) return;
    const topic = topics.deviceAvailability(this.o.deviceId);
    this.o.onPublish?.(topic, value);
    await client.publishAsync(topic, value, { qos: 1, retain: true });
  }
}
