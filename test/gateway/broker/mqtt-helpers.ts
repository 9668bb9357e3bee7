/**
 * mqtt.js helpers shared by the embedded-broker and Mosquitto tests: connect without retries,
 * read the CONNACK refusal code, collect messages, and prove a negative with a sentinel (a
 * message that follows the forbidden one on the same path, so "not received" is not just
 * "not received yet").
 */
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';

export const base: IClientOptions = { reconnectPeriod: 0, connectTimeout: 4000, protocolVersion: 4, clean: true };

const open: MqttClient[] = [];

export async function connect(url: string, opts: IClientOptions): Promise<MqttClient> {
  const c = await connectAsync(url, { ...base, ...opts }, false);
  open.push(c);
  return c;
}

/** Resolves with the CONNACK return code (or the error message) of a refused connection; fails if accepted. */
export async function refusal(url: string, opts: IClientOptions): Promise<number | string> {
  let c: MqttClient;
  try {
    c = await connectAsync(url, { ...base, ...opts }, false);
  } catch (err) {
    const e = err as { code?: number; message: string };
    return typeof e.code === 'number' ? e.code : e.message;
  }
  await c.endAsync(true);
  throw new Error(`connection with ${JSON.stringify({ ...opts, password: opts.password ? '***' : undefined })} was accepted`);
}

export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((c) => c.endAsync(true).catch(() => {})));
}

export interface Inbox {
  messages: { topic: string; payload: string; retain: boolean }[];
  topics(): string[];
  /** Topics of messages published while subscribed (retained ones left out). */
  live(): string[];
  /** Waits until a message on `topic` arrived (or fails after `ms`). */
  waitFor(topic: string, ms?: number): Promise<void>;
}

export function inbox(c: MqttClient): Inbox {
  const messages: Inbox['messages'] = [];
  const waiters: { topic: string; resolve: () => void }[] = [];
  c.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
    for (const w of waiters.filter((w) => w.topic === topic)) w.resolve();
  });
  return {
    messages,
    topics: () => messages.map((m) => m.topic),
    live: () => messages.filter((m) => !m.retain).map((m) => m.topic),
    waitFor(topic, ms = 3000) {
      if (messages.some((m) => m.topic === topic)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no message on ${topic} within ${ms} ms; got ${JSON.stringify(messages.map((m) => m.topic))}`)), ms);
        waiters.push({ topic, resolve: () => (clearTimeout(t), resolve()) });
      });
    },
  };
}

/** Granted QoS per filter (128 = refused). */
export async function granted(c: MqttClient, filter: string, qos: 0 | 1 = 1): Promise<number> {
  try {
    const g = await c.subscribeAsync(filter, { qos });
    return g[0]?.qos ?? -1;
  } catch (err) {
    // mqtt.js rejects when every filter of the SUBSCRIBE was refused; the SUBACK is attached.
    const codes = (err as { packet?: { granted?: (number | { qos: number })[] } }).packet?.granted;
    const code = codes?.[0];
    if (code === undefined) throw err;
    return typeof code === 'number' ? code : code.qos;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
