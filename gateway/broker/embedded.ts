/**
 * The embedded MQTT broker (aedes, in-memory persistence): plain TCP on `port`, TLS on
 * `tls.port` when a certificate is configured. Every connection authenticates (no anonymous
 * access) and every publish, subscription, will and delivered message is checked against the
 * ACL in acl.ts.
 *
 * Denials follow what Mosquitto does, so devices behave the same on either broker:
 * - a refused subscription is answered with SUBACK 0x80, and its retained messages never flow;
 * - a refused publish is acknowledged as usual and then dropped (MQTT 3.1.1 §3.3.5 allows
 *   either that or closing the connection). Closing would make a client retry the same QoS 1
 *   message forever, and make an attacker reconnect, which costs us an scrypt check each time.
 * Packets larger than `maxPacketBytes` (64 KiB before login) close the connection instead
 * (packet-limit.ts): nothing else bounds what aedes buffers for one client.
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { createLogger, type Logger } from '../../core/log/logger.ts';
import { createPacketGuard, type PacketGuard } from './packet-limit.ts';
import { mayPublish, mayReceive, maySubscribe, type BrokerPrincipal } from './acl.ts';
import type { GatewayBrokerConfig } from './config.ts';
import type { BrokerCredentials } from './credentials.ts';

export type BrokerConfig = GatewayBrokerConfig;
/**
 * `connect` covers anonymous, wrong password, foreign client id and a will on a forbidden topic;
 * `packet` a connection closed for an oversized or malformed packet, or a first packet that is
 * not CONNECT.
 */
export type DeniedReason = 'connect' | 'publish' | 'subscribe' | 'forward' | 'packet';

export interface EmbeddedBrokerDeps {
  config: BrokerConfig;
  credentials: BrokerCredentials;
  log?: Logger;
  /** Called for every refusal (for a metric); `topic` is '' for refused connections. */
  onDenied?(reason: DeniedReason, clientId: string, topic: string): void;
}

export interface EmbeddedBroker {
  /** Binds the listeners; resolves with the bound ports (config port 0 = a free one). */
  start(): Promise<{ port: number; tlsPort?: number }>;
  stop(): Promise<void>;
  /** `mqtt://host:port` of the plain listener, loopback when bound to all interfaces. */
  readonly url: string;
  /** `mqtts://host:port` of the TLS listener when there is one. */
  readonly tlsUrl: string | undefined;
  /** What devices should be told (provisioning bundles): config `advertisedUrl`, else the TLS URL, else `url`. */
  readonly advertisedUrl: string;
  readonly connectedClients: number;
  /**
   * Closes every connection with this MQTT client id (a device's id), logged in or still
   * logging in; true when there was one. For a device that was deleted or reprovisioned: its
   * credentials no longer verify, so it cannot come back with the old password.
   */
  disconnect(clientId: string): boolean;
}

// Codes of MQTT 3.1.1 CONNACK (aedes declares them as a const enum, which tsx cannot inline).
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

type Will = { topic: string; retain?: boolean } | undefined;

/** Before login a client needs one CONNECT (id, user, password, will): far less than this. */
const MAX_PACKET_BEFORE_LOGIN = 64 * 1024;

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`MQTT broker cannot listen on ${host}:${port}: ${err.message}`));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

export function createEmbeddedBroker(deps: EmbeddedBrokerDeps): EmbeddedBroker {
  const { config, credentials } = deps;
  const log = deps.log ?? createLogger('broker');
  const principals = new WeakMap<Client, BrokerPrincipal>();
  const wills = new WeakMap<Client, Will>();
  const dropped = new WeakSet<object>();
  const deniedCount = new WeakMap<object, number>();
  const noClient = {};
  const sockets = new Set<Socket>();
  const clients = new Set<Client>();
  const guards = new WeakMap<object, PacketGuard>();
  let broker: Aedes | undefined;
  let servers: Server[] = [];
  let bound: { port: number; tlsPort?: number } | undefined;

  // Logged, but not one line per message: a misbehaving client must not flood the log.
  function denied(reason: DeniedReason, client: Client | null, topic: string, why: string): void {
    const clientId = client?.id ?? '';
    deps.onDenied?.(reason, clientId, topic);
    const key = client ?? noClient;
    const n = (deniedCount.get(key) ?? 0) + 1;
    deniedCount.set(key, n);
    if (n <= 5 || n % 1000 === 0) log.warn(`refused ${reason}: ${why}`, { clientId, topic: topic || undefined, count: n });
  }

  const refuse = (client: Client, code: number, why: string, done: (e: AuthenticateError | null, ok: boolean | null) => void) => {
    denied('connect', client, '', why);
    done(Object.assign(new Error(why), { returnCode: code }) as AuthenticateError, null);
  };

  const options = {
    connectTimeout: 10_000,
    preConnect(client: Client, packet: { will?: Will }, cb: (e: Error | null, ok: boolean) => void) {
      // authenticate() does not see the CONNECT packet; keep the will to check it there.
      wills.set(client, packet.will);
      cb(null, true);
    },
    authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: (e: AuthenticateError | null, ok: boolean | null) => void) {
      if (!username) return refuse(client, NOT_AUTHORIZED, 'anonymous connection', done);
      if (!password?.length) return refuse(client, BAD_USERNAME_OR_PASSWORD, `no password for ${username}`, done);
      credentials.verify(username, password.toString('utf8')).then(
        (p) => {
          if (!p) return refuse(client, BAD_USERNAME_OR_PASSWORD, `wrong username or password for ${username}`, done);
          // A device connects under its own id only; otherwise it could take over another
          // device's session (aedes closes the older connection with the same client id).
          if (p.kind === 'device' && client.id !== p.deviceId) return refuse(client, IDENTIFIER_REJECTED, `device ${p.deviceId} used client id ${client.id}`, done);
          const will = wills.get(client);
          if (will && !mayPublish(p, will.topic, !!will.retain)) return refuse(client, NOT_AUTHORIZED, `${username} may not set a will on ${will.topic}`, done);
          principals.set(client, p);
          guards.get(client.conn)?.loggedIn();
          done(null, true);
        },
        (err: Error) => {
          log.error('broker credential check failed', { username, error: err.message });
          refuse(client, SERVER_UNAVAILABLE, 'credential store unavailable', done);
        },
      );
    },
    authorizePublish(client: Client | null, packet: PublishPacket, cb: (e?: Error | null) => void) {
      const p = client ? principals.get(client) : undefined;
      if (!p || !mayPublish(p, packet.topic, packet.retain)) {
        denied('publish', client, packet.topic, packet.retain ? 'topic or retain not allowed' : 'topic not allowed');
        dropped.add(packet);
      }
      cb(null);
    },
    authorizeSubscribe(client: Client, sub: { topic: string; qos: number }, cb: (e: Error | null, s?: typeof sub | null) => void) {
      const p = principals.get(client);
      if (p && maySubscribe(p, sub.topic)) return cb(null, sub);
      denied('subscribe', client, sub.topic, 'filter not allowed');
      cb(null, null); // SUBACK 0x80, nothing stored, no retained messages
    },
    authorizeForward(client: Client, packet: { topic: string }) {
      const p = principals.get(client);
      if (p && mayReceive(p, packet.topic)) return packet;
      // $SYS chatter to a subscription the ACL allowed ($SYS/# for the admin) passes above;
      // anything else here means a filter matched more than the ACL meant.
      denied('forward', client, packet.topic, 'delivery not allowed');
      return null;
    },
  };

  async function start(): Promise<{ port: number; tlsPort?: number }> {
    if (bound) return bound;
    const b = await Aedes.createBroker(options as unknown as ConstructorParameters<typeof Aedes>[0]);
    broker = b;
    // Denied publishes were acknowledged by aedes and are dropped here, before they are stored
    // as retained, queued for offline sessions or routed. Wills take the same path.
    const publish = b.publish.bind(b) as unknown as (packet: object, client: unknown, done?: (e?: Error) => void) => void;
    (b as unknown as { publish: typeof publish }).publish = (packet, client, done) => {
      if (dropped.has(packet)) return (typeof client === 'function' ? client : done)?.();
      publish(packet, client, done);
    };
    b.on('clientError', (c, err) => log.debug('client error', { clientId: c.id, error: err.message }));
    b.on('connectionError', (_c, err) => log.debug('connection error', { error: err.message }));
    b.on('clientReady', (c) => log.debug('client connected', { clientId: c.id, kind: principals.get(c)?.kind }));
    (b as unknown as { on(ev: 'error', f: (e: Error) => void): void }).on('error', (err) => log.error('broker error', { error: err.message }));

    const limits = { max: config.maxPacketBytes, beforeLogin: Math.min(MAX_PACKET_BEFORE_LOGIN, config.maxPacketBytes) };
    const track = (s: Socket) => {
      const guard = createPacketGuard(limits);
      guards.set(s, guard);
      const client = b.handle(s);
      sockets.add(s);
      clients.add(client);
      s.once('close', () => {
        sockets.delete(s);
        clients.delete(client);
      });
      // aedes reads with read() on 'readable'; a 'data' listener added next to it does not
      // switch the socket to flowing mode but sees every chunk read() returns, before aedes
      // parses it. The socket's own buffer stays bounded (highWaterMark) while aedes waits.
      s.on('data', (chunk: Buffer) => {
        const why = guard.push(chunk);
        if (!why || s.destroyed) return;
        denied('packet', client.id ? client : null, '', why);
        s.destroy();
      });
    };
    const plain = createServer(track);
    servers = [plain];
    const port = await listen(plain, config.port, config.host);
    let tlsPort: number | undefined;
    if (config.tls.cert && config.tls.key) {
      const secure = createTlsServer(
        {
          cert: readFileSync(config.tls.cert),
          key: readFileSync(config.tls.key),
          ca: config.tls.ca ? readFileSync(config.tls.ca) : undefined,
          requestCert: config.tls.requireClientCert,
          rejectUnauthorized: config.tls.requireClientCert,
        },
        track,
      );
      // Handshake failures (plain MQTT on the TLS port, bad client certificates) are the client's problem.
      secure.on('tlsClientError', (err) => log.debug('TLS handshake failed', { error: err.message }));
      servers.push(secure);
      tlsPort = await listen(secure, config.tls.port, config.host);
    }
    bound = { port, tlsPort };
    log.info('MQTT broker listening', { host: config.host, port, tlsPort });
    return bound;
  }

  async function stop(): Promise<void> {
    const b = broker;
    broker = undefined;
    bound = undefined;
    const closing = servers.map(closeServer);
    servers = [];
    if (b) await new Promise<void>((resolve) => b.close(() => resolve()));
    // Connections that never sent CONNECT are not aedes clients yet; without this they would
    // hold server.close() open until their connect timeout.
    for (const s of sockets) s.destroy();
    await Promise.all(closing);
  }

  return {
    start,
    stop,
    get url() {
      return `mqtt://${urlHost(config.host)}:${bound?.port ?? config.port}`;
    },
    get tlsUrl() {
      if (!config.tls.cert || !config.tls.key) return undefined;
      return `mqtts://${urlHost(config.host)}:${bound?.tlsPort ?? config.tls.port}`;
    },
    get advertisedUrl() {
      return config.advertisedUrl || this.tlsUrl || this.url;
    },
    get connectedClients() {
      return broker?.connectedClients ?? 0;
    },
    disconnect(clientId) {
      // Our own set, not aedes' clients map: that one lists a client only once its session is
      // set up, after authenticate() returned; a device whose password check is in flight
      // with the old hash would slip through. Closing marks the client closed, so aedes drops
      // that pending authentication.
      let found = false;
      for (const c of clients) {
        if (c.id !== clientId || c.closed) continue;
        found = true;
        log.info('closing MQTT connection', { clientId });
        (c as unknown as { close(): void }).close();
      }
      return found;
    },
  };
}
