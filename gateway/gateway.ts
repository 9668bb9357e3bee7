/**
 * Wires the gateway together in one place: store -> keys -> metrics -> broker -> sync -> auth ->
 * HTTP. Each module gets its dependencies as one object; stop() undoes start-up in reverse, so
 * the retained `offline` goes out before the broker closes.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { createLogger } from '../core/log/logger.ts';
import { loadOrCreateKeySet, type KeySet } from '../core/sync/keys.ts';
import { VisionEngine } from '../core/vision/engine.ts';
import { createAuth, type Auth } from './auth/index.ts';
import { createBrokerCredentials } from './broker/credentials.ts';
import { createEmbeddedBroker, type EmbeddedBroker } from './broker/embedded.ts';
import type { GatewayConfig } from './config.ts';
import { createGatewayHttp } from './http/server.ts';
import { createGatewayMetrics, type GatewayMetrics } from './metrics/gateway-metrics.ts';
import { openGatewayStore } from './store/open.ts';
import type { GatewayStore } from './store/types.ts';
import { provisionDevice, type ProvisionOptions, type ProvisionResult } from './sync/provision.ts';
import { GatewaySync } from './sync/service.ts';
import { serveUi } from './ui/serve.ts';
import { openSecondEmbedder } from '../device/gallery/second-model.ts';
import { createEnrolment, type Enrolment } from './enrol/enrol.ts';

const log = createLogger('gateway');

export interface GatewayOverrides {
  /** Share an engine (tests, `npm start` with a device in the same process). */
  engine?: VisionEngine;
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

export interface Gateway {
  config: GatewayConfig;
  store: GatewayStore;
  keys: KeySet;
  sync: GatewaySync;
  auth: Auth;
  enrolment: Enrolment;
  metrics: GatewayMetrics;
  broker?: EmbeddedBroker;
  /** Where devices reach the broker (embedded: the bound port). */
  brokerUrl: string;
  http: { host: string; port: number; url: string };
  provision(deviceId: string, o?: ProvisionOptions): Promise<ProvisionResult>;
  stop(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, o: GatewayOverrides = {}): Promise<Gateway> {
  const now = o.now ?? Date.now;
  const cleanup: (() => Promise<void> | void)[] = [];
  try {
    const store = openGatewayStore(config.store, { env: o.env, now });
    cleanup.push(() => store.close());
    const at = (f: string) => (isAbsolute(f) ? f : join(config.store.dir, f));
    const { keys, created } = loadOrCreateKeySet(at(config.sync.keyFile));
    if (created) log.info('gateway key pair created', { file: at(config.sync.keyFile) });

    const metrics = createGatewayMetrics({
      config: config.metrics,
      devicesOnline: () => store.devices.list().filter((d) => d.online).length,
      devicesTotal: () => store.devices.list().length,
      syncLagSeconds: () => {
        const head = store.register.head();
        const behind = store.devices.list().filter((d) => d.signPublicKey && (d.cursor ?? -1) < head);
        return behind.length ? Math.max(...behind.map((d) => (now() - (d.lastSeen ?? now())) / 1000)) : 0;
      },
    });

    // The gateway's own client: a fresh random password per start on the embedded broker.
    let brokerUrl: string;
    let client: { url: string; username: string; password: string; ca?: string };
    let broker: EmbeddedBroker | undefined;
    if (config.broker.type === 'embedded') {
      const own = { username: config.broker.username, password: randomBytes(24).toString('base64url') };
      broker = createEmbeddedBroker({
        config: config.broker,
        credentials: createBrokerCredentials({
          gateway: own,
          admin: config.broker.adminUsername ? { username: config.broker.adminUsername, password: config.broker.adminPassword } : undefined,
          deviceHash: (id) => store.devices.get(id)?.brokerPasswordHash ?? null,
        }),
        onDenied: (reason) => metrics.recordSecurityRejection(reason === 'connect' || reason === 'packet' ? 'broker_auth' : 'broker_acl'),
      });
      await broker.start();
      cleanup.push(() => broker!.stop());
      brokerUrl = broker.advertisedUrl;
      client = { url: broker.url, ...own };
    } else {
      brokerUrl = config.broker.advertisedUrl || config.broker.url;
      client = { url: config.broker.url, username: config.broker.username, password: config.broker.password, ca: config.broker.urlCa ? readFileSync(config.broker.urlCa, 'utf8') : undefined };
    }

    const engine = o.engine ?? (await VisionEngine.create(config.vision, { storeDir: config.store.dir }));
    if (!o.engine) cleanup.push(() => engine.close());
    // The doors' second embedding, opened as their gallery.secondEmbedding 'auto' does: used when installed.
    const secondEmbedder = await openSecondEmbedder({ secondEmbedding: 'auto' }, config.vision);
    if (secondEmbedder) cleanup.push(() => secondEmbedder.release());
    const enrolment = createEnrolment({ store, engine, secondEmbedder, config: config.enrol, metrics });

    const sync = new GatewaySync({
      config: config.sync,
      store,
      keys,
      broker: client,
      seqFile: at('sync-seq'),
      now,
      addTemplate: (personId, embedding, source) => enrolment.addTemplate(personId, embedding, source),
      metrics: {
        ingested: (n, d) => {
          metrics.auditIngested.inc(n);
          metrics.auditDuplicates.inc(d);
        },
        message: (type) => metrics.recordSyncMessage(type),
        rejected: (reason) => metrics.recordSecurityRejection(reason),
      },
    });
    await sync.start();
    cleanup.push(() => sync.stop());
    enrolment.onChange(() => sync.registerChanged());

    const auth = createAuth({ db: store.db, config: config.auth, now, audit: (e) => store.audit.record({ actor: e.actor, action: e.action, target: e.target ?? null, details: e.details }) });
    // New credentials or a deleted device: the old session must not stay subscribed.
    const provision = async (deviceId: string, po: ProvisionOptions = {}) => {
      const r = await provisionDevice(store, keys, brokerUrl, deviceId, po);
      if (po.reprovision) broker?.disconnect(deviceId);
      return r;
    };
    const decommission = (deviceId: string) => {
      const removed = store.devices.remove(deviceId);
      broker?.disconnect(deviceId);
      return removed;
    };
    const http = createGatewayHttp({
      config: config.http,
      store,
      auth,
      engine,
      enrolment,
      metrics,
      provision: (id, opts) => provision(id, { name: opts?.name, doorId: opts?.doorId }),
      command: (id, cmd, args, actor) => sync.command(id, cmd, args, actor),
      decommission,
      ui: serveUi,
      onRegisterChange: () => sync.registerChanged(),
      health: () => ({ broker: sync.connected ? 'connected' : 'disconnected', devicesOnline: store.devices.list().filter((d) => d.online).length }),
      now,
    });
    const addr = await http.start();
    cleanup.push(() => http.stop());
    const url = `http://${addr.host.includes(':') ? `[${addr.host}]` : addr.host === '0.0.0.0' ? '127.0.0.1' : addr.host}:${addr.port}`;
    log.info('gateway ready', { http: url, broker: brokerUrl, devices: store.devices.list().length, people: store.people.list({ limit: 1 }).total });
    const token = auth.setupToken();
    if (token) log.warn(`no admin account yet: open ${url}/setup?token=${token} (one-time link) or POST /api/setup {token, username, password}`);

    let stopping: Promise<void> | undefined;
    return {
      config, store, keys, sync, auth, enrolment, metrics, broker, brokerUrl,
      http: { ...addr, url },
      provision,
      stop: () => (stopping ??= runCleanup(cleanup)),
    };
  } catch (err) {
    await runCleanup(cleanup);
    throw err;
  }
}

async function runCleanup(steps: (() => Promise<void> | void)[]): Promise<void> {
  for (const step of steps.reverse()) {
    try {
      await step();
    } catch (err) {
      log.error('error while stopping', { error: (err as Error).message });
    }
  }
}
