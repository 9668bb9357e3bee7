/**
 * The gateway's Prometheus metrics, declared in one place: devices online, audit ingest, sync
 * traffic and lag, security rejections, enrolments, and the HTTP API. Own prom-client `Registry`
 * (never the global default one), so a gateway and devices can share a process (`npm start`, tests)
 * without their metrics colliding.
 *
 * Label values that could come from the outside (HTTP method, sync message type) are folded onto
 * a fixed set, so a client cannot grow the number of series without bound.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { createLogger } from '../../core/log/logger.ts';
import { defaultGatewayMetricsConfig, type GatewayMetricsConfig } from './config.ts';

const log = createLogger('metrics');

/** Message types counted by `sync_messages_total` (up and down); anything else counts as `other`. */
export const syncMessageTypes = ['hello', 'status', 'audit', 'sync', 'response', 'ack', 'changes', 'command', 'notify'] as const;
/** Reasons pre-declared at 0 in `security_rejections_total`; other reasons are counted too. */
export const securityRejectionReasons = [
  'unsigned', 'bad_signature', 'wrong_key', 'wrong_sender', 'replayed', 'expired', 'malformed', 'unknown_device',
  'broker_auth', 'broker_acl', 'login_failed', 'login_rate_limited', 'csrf',
] as const;
const httpMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

type Read = () => number | Promise<number>;

export interface GatewayMetricsOptions {
  config?: GatewayMetricsConfig;
  /** Defaults to a fresh registry of this gateway's own. */
  registry?: Registry;
  /** Devices currently online (availability `online`); read at scrape time. */
  devicesOnline?: Read;
  /** Provisioned devices; read at scrape time. Without it the gauge is set by hand. */
  devicesTotal?: Read;
  /** Max over devices of how far behind the register their applied cursor is, in seconds; read at scrape time. */
  syncLagSeconds?: Read;
}

export interface GatewayMetrics {
  registry: Registry;
  devicesOnline: Gauge;
  devicesTotal: Gauge;
  auditIngested: Counter;
  auditDuplicates: Counter;
  syncMessages: Counter<'type'>;
  syncLagSeconds: Gauge;
  securityRejections: Counter<'reason'>;
  enrolments: Counter<'result'>;
  httpRequests: Counter<'method' | 'status'>;
  httpDuration: Histogram<'method'>;
  /** Count a sync message by type (unknown types count as `other`). */
  recordSyncMessage(type: string): void;
  /** Count a refused message/connection/login by reason. */
  recordSecurityRejection(reason: string): void;
  /** Count one enrolment attempt by result (e.g. `enrolled`, `rejected`, `duplicate`). */
  recordEnrolment(result: string): void;
  /** Count one answered HTTP request and observe its duration. */
  recordHttpRequest(method: string, status: number, seconds: number): void;
  /** Starts timing a request; call the result with the status once it is answered. */
  startHttpTimer(method: string): (status: number) => void;
}

export function createGatewayMetrics(opts: GatewayMetricsOptions = {}): GatewayMetrics {
  const config = opts.config ?? defaultGatewayMetricsConfig();
  const registry = opts.registry ?? new Registry();
  const p = config.prefix;
  const registers = [registry];

  /** A scrape-time gauge; a failing reader gives NaN and a warning, not a failed scrape. */
  const readGauge = (name: string, help: string, read?: Read) =>
    new Gauge({
      name,
      help,
      registers,
      collect: read
        ? async function (this: Gauge) {
            try {
              this.set(await read());
            } catch (err) {
              log.warn('metric read failed', { metric: name, error: (err as Error).message });
              this.set(NaN);
            }
          }
        : undefined,
    });

  const devicesOnline = readGauge(`${p}devices_online`, 'Devices whose last availability message is `online`.', opts.devicesOnline);
  const devicesTotal = readGauge(`${p}devices_total`, 'Provisioned devices.', opts.devicesTotal);
  const syncLagSeconds = readGauge(
    `${p}sync_lag_seconds`,
    'How far the furthest-behind device is from the current register, in seconds (0 when all are in sync).',
    opts.syncLagSeconds,
  );
  const auditIngested = new Counter({
    name: `${p}audit_events_ingested_total`,
    help: 'Audit events from devices stored for the first time (rate() gives the ingest rate).',
    registers,
  });
  const auditDuplicates = new Counter({
    name: `${p}audit_duplicates_total`,
    help: 'Audit events received again (same device and event id) and acknowledged without storing twice.',
    registers,
  });
  const syncMessages = new Counter({
    name: `${p}sync_messages_total`,
    help: 'MQTT sync messages handled by the gateway, received and sent, by type.',
    labelNames: ['type'] as const,
    registers,
  });
  for (const type of [...syncMessageTypes, 'other']) syncMessages.inc({ type }, 0);
  const securityRejections = new Counter({
    name: `${p}security_rejections_total`,
    help: 'Messages, broker connections and logins refused for security reasons, by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  for (const reason of securityRejectionReasons) securityRejections.inc({ reason }, 0);
  const enrolments = new Counter({
    name: `${p}enrolments_total`,
    help: 'Enrolment attempts (photo upload or enrol-here) by result.',
    labelNames: ['result'] as const,
    registers,
  });
  const httpRequests = new Counter({
    name: `${p}http_requests_total`,
    help: 'HTTP API requests answered, by method and status code.',
    labelNames: ['method', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: `${p}http_request_duration_seconds`,
    help: 'Time to answer an HTTP API request, by method.',
    labelNames: ['method'] as const,
    buckets: config.httpDurationBuckets,
    registers,
  });

  if (config.processMetrics) collectDefaultMetrics({ register: registry, prefix: p });

  const knownMethod = (m: string) => (httpMethods.has(m.toUpperCase()) ? m.toUpperCase() : 'other');
  const knownType = new Set<string>(syncMessageTypes);
  const recordHttpRequest = (method: string, status: number, seconds: number) => {
    const m = knownMethod(method);
    httpRequests.inc({ method: m, status: String(status) });
    httpDuration.observe({ method: m }, seconds);
  };

  return {
    registry,
    devicesOnline,
    devicesTotal,
    auditIngested,
    auditDuplicates,
    syncMessages,
    syncLagSeconds,
    securityRejections,
    enrolments,
    httpRequests,
    httpDuration,
    recordSyncMessage: (type) => syncMessages.inc({ type: knownType.has(type) ? type : 'other' }),
    recordSecurityRejection: (reason) => securityRejections.inc({ reason }),
    recordEnrolment: (result) => enrolments.inc({ result }),
    recordHttpRequest,
    startHttpTimer(method) {
      const t0 = process.hrtime.bigint();
      return (status) => recordHttpRequest(method, status, Number(process.hrtime.bigint() - t0) / 1e9);
    },
  };
}
