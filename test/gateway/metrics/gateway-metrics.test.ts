import { describe, expect, it } from 'vitest';
import { register } from 'prom-client';
import { createGatewayMetrics, securityRejectionReasons, syncMessageTypes } from '../../../gateway/metrics/gateway-metrics.ts';
import { gatewayMetricsConfigSchema } from '../../../gateway/metrics/config.ts';
import { addLogSink, type LogRecord } from '../../../core/log/logger.ts';

/** Value of one sample line, found by exact name and label set (label order ignored). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.keys(got).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const g = (name: string) => `portier_gateway_${name}`;

describe('gateway metrics (prom-client)', () => {
  it('reads devices online/total and sync lag at scrape time', async () => {
    let online = 2;
    const m = createGatewayMetrics({ devicesOnline: () => online, devicesTotal: async () => 5, syncLagSeconds: () => 1.5 });
    let text = await m.registry.metrics();
    expect(sample(text, g('devices_online'))).toBe(2);
    expect(sample(text, g('devices_total'))).toBe(5);
    expect(sample(text, g('sync_lag_seconds'))).toBe(1.5);
    online = 1;
    text = await m.registry.metrics();
    expect(sample(text, g('devices_online'))).toBe(1);
  });

  it('a failing reader gives NaN and a warning, and the rest of the scrape still works', async () => {
    const records: LogRecord[] = [];
    const off = addLogSink((r) => records.push(r));
    try {
      const m = createGatewayMetrics({ devicesOnline: () => { throw new Error('db closed'); }, devicesTotal: () => 3 });
      const text = await m.registry.metrics();
      expect(sample(text, g('devices_online'))).toBeNaN();
      expect(sample(text, g('devices_total'))).toBe(3);
      expect(records.some((r) => r.level === 'warn' && r.module === 'metrics' && r.fields?.error === 'db closed')).toBe(true);
    } finally {
      off();
    }
  });

  it('counts audit ingest, duplicates, sync messages, rejections and enrolments', async () => {
    const m = createGatewayMetrics({ config: gatewayMetricsConfigSchema.parse({ processMetrics: false }) });
    let text = await m.registry.metrics();
    for (const type of [...syncMessageTypes, 'other']) expect(sample(text, g('sync_messages_total'), { type })).toBe(0);
    for (const reason of securityRejectionReasons) expect(sample(text, g('security_rejections_total'), { reason })).toBe(0);
    expect(sample(text, g('audit_events_ingested_total'))).toBe(0);

    m.auditIngested.inc(500);
    m.auditDuplicates.inc(3);
    m.recordSyncMessage('audit');
    m.recordSyncMessage('audit');
    m.recordSyncMessage('changes');
    m.recordSyncMessage('attacker-chosen-type');
    m.recordSecurityRejection('wrong_sender');
    m.recordSecurityRejection('some_new_reason');
    m.recordEnrolment('enrolled');
    m.recordEnrolment('rejected');
    m.recordEnrolment('enrolled');
    text = await m.registry.metrics();
    expect(sample(text, g('audit_events_ingested_total'))).toBe(500);
    expect(sample(text, g('audit_duplicates_total'))).toBe(3);
    expect(sample(text, g('sync_messages_total'), { type: 'audit' })).toBe(2);
    expect(sample(text, g('sync_messages_total'), { type: 'changes' })).toBe(1);
    expect(sample(text, g('sync_messages_total'), { type: 'other' })).toBe(1);
    expect(text).not.toContain('attacker-chosen-type');
    expect(sample(text, g('security_rejections_total'), { reason: 'wrong_sender' })).toBe(1);
    expect(sample(text, g('security_rejections_total'), { reason: 'some_new_reason' })).toBe(1);
    expect(sample(text, g('enrolments_total'), { result: 'enrolled' })).toBe(2);
    expect(sample(text, g('enrolments_total'), { result: 'rejected' })).toBe(1);
    // No setter given: the gauges stay settable by hand and read 0 until then.
    expect(sample(text, g('devices_online'))).toBe(0);
    m.devicesTotal.set(7);
    expect(sample(await m.registry.metrics(), g('devices_total'))).toBe(7);
  });

  it('HTTP requests by method and status, duration histogram, unknown methods folded', async () => {
    const m = createGatewayMetrics({ config: gatewayMetricsConfigSchema.parse({ processMetrics: false, httpDurationBuckets: [0.1, 1] }) });
    m.recordHttpRequest('get', 200, 0.05);
    m.recordHttpRequest('GET', 200, 0.5);
    m.recordHttpRequest('POST', 403, 0.01);
    m.recordHttpRequest('BREW', 405, 0.01);
    const done = m.startHttpTimer('DELETE');
    done(204);
    const text = await m.registry.metrics();
    expect(sample(text, g('http_requests_total'), { method: 'GET', status: '200' })).toBe(2);
    expect(sample(text, g('http_requests_total'), { method: 'POST', status: '403' })).toBe(1);
    expect(sample(text, g('http_requests_total'), { method: 'other', status: '405' })).toBe(1);
    expect(sample(text, g('http_requests_total'), { method: 'DELETE', status: '204' })).toBe(1);
    expect(text).not.toContain('BREW');
    expect(sample(text, g('http_request_duration_seconds_bucket'), { method: 'GET', le: '0.1' })).toBe(1);
    expect(sample(text, g('http_request_duration_seconds_bucket'), { method: 'GET', le: '1' })).toBe(2);
    expect(sample(text, g('http_request_duration_seconds_count'), { method: 'DELETE' })).toBe(1);
    expect(sample(text, g('http_request_duration_seconds_sum'), { method: 'DELETE' })).toBeLessThan(1);
  });

  it('exports process metrics under the gateway prefix, separate from the device and global registries', async () => {
    const a = createGatewayMetrics();
    const b = createGatewayMetrics();
    a.auditIngested.inc();
    const text = await a.registry.metrics();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds']) {
      expect(text).toContain(`# TYPE ${g(name)} `);
    }
    expect(sample(await b.registry.metrics(), g('audit_events_ingested_total'))).toBe(0);
    expect(a.registry.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(register.getMetricsAsArray()).toHaveLength(0);
  });

  it('config: defaults, prefix, strictness and bucket order', async () => {
    expect(gatewayMetricsConfigSchema.parse({})).toMatchObject({ enabled: true, prefix: 'portier_gateway_', processMetrics: true });
    const text = await createGatewayMetrics({ config: gatewayMetricsConfigSchema.parse({ prefix: 'gw_' }) }).registry.metrics();
    expect(text).toContain('# TYPE gw_devices_online gauge');
    expect(text).toContain('# TYPE gw_process_cpu_seconds_total counter');
    expect(text).not.toContain('portier_gateway_');
    expect(gatewayMetricsConfigSchema.safeParse({ prefix: 'bad-prefix' }).success).toBe(false);
    expect(gatewayMetricsConfigSchema.safeParse({ httpDurationBuckets: [1, 0.5] }).success).toBe(false);
    expect(gatewayMetricsConfigSchema.safeParse({ other: 1 }).success).toBe(false);
    for (const field of Object.values(gatewayMetricsConfigSchema.shape)) expect(field.description).toBeTruthy();
  });
});
