import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { createStatusServer, type DeviceStateSnapshot, type StatusServer } from '../../../device/http/server.ts';
import { httpConfigSchema } from '../../../device/http/config.ts';
import { evaluateHealth, type HealthInput } from '../../../device/http/health.ts';
import { createDeviceMetrics } from '../../../device/metrics/device-metrics.ts';
import { addLogSink, type LogRecord } from '../../../core/log/logger.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function setup(over: { health?: () => HealthInput; state?: () => DeviceStateSnapshot; now?: () => number } = {}) {
  const metrics = createDeviceMetrics({ outboxDepth: () => 3, processMetrics: false });
  let clock = 1_000_000;
  const health: HealthInput = { camera: 'up', lastTickAt: clock - 100 };
  const snapshot: DeviceStateSnapshot = {
    door: { state: 'locked', since: '2025-01-15T10:00:00.000Z' },
    lastDecision: { at: '2025-01-15T10:00:00.000Z', door: 'main', granted: true, reason: 'granted', personId: 'alice' },
    camera: { status: 'up', lastFrameAt: '2025-01-15T10:00:01.000Z' },
    gallerySize: 12,
    outboxDepth: 3,
  };
  server = createStatusServer({
    config: httpConfigSchema.parse({ port: 0, staleAfterMs: 2000 }),
    state: over.state ?? (() => snapshot),
    health: over.health ?? (() => health),
    metrics: () => metrics.registry.metrics(),
    now: over.now ?? (() => clock),
  });
  return { metrics, health, snapshot, advance: (ms: number) => (clock += ms) };
}

describe('status HTTP endpoint (real requests on port 0)', () => {
  it('binds to loopback by default and reports the chosen port', async () => {
    expect(httpConfigSchema.parse({}).host).toBe('127.0.0.1');
    setup();
    const addr = await server!.start();
    expect(addr.host).toBe('127.0.0.1');
    expect(addr.port).toBeGreaterThan(0);
  });

  it('GET /health is 200 while the loop ticks, 503 with a reason when stale or the camera is down', async () => {
    const s = setup();
    const { port } = await server!.start();
    let r = await call(port, '/health');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(r.body)).toEqual({ status: 'ok', lastTickAgeMs: 100 });

    s.advance(5000);
    r = await call(port, '/health');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toMatchObject({ status: 'unhealthy', reason: 'loop_stale', lastTickAgeMs: 5100 });

    s.health.lastTickAt = 1_000_000 + 5000;
    s.health.camera = 'down';
    r = await call(port, '/health');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).reason).toBe('camera_down');

    s.health.camera = 'up';
    r = await call(port, '/health');
    expect(r.status).toBe(200);
  });

  it('GET /state returns the provider snapshot as JSON', async () => {
    const s = setup();
    const { port } = await server!.start();
    const r = await call(port, '/state');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual(s.snapshot);
    s.snapshot.door.state = 'unlocked';
    expect(JSON.parse((await call(port, '/state')).body).door.state).toBe('unlocked');
  });

  it('GET /metrics serves the registry\'s (async) Prometheus text with its content type', async () => {
    const s = setup();
    s.metrics.framesCaptured.inc(42);
    const { port } = await server!.start();
    const r = await call(port, '/metrics?x=1');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(s.metrics.registry.contentType);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).toContain('portier_frames_captured_total 42\n');
    expect(r.body).toContain('portier_outbox_depth 3\n');
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
  });

  it('GET /metrics: a rejected metrics promise gives 500 and the server keeps serving; the content type is configurable', async () => {
    let fail = true;
    server = createStatusServer({
      config: httpConfigSchema.parse({ port: 0 }),
      state: () => ({}) as never,
      health: () => ({ camera: 'up', lastTickAt: 0 }),
      metrics: () => (fail ? Promise.reject(new Error('collect failed')) : 'up 1\n# EOF\n'),
      metricsContentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
      now: () => 0,
    });
    const { port } = await server.start();
    const r = await call(port, '/metrics');
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body).message).toBe('collect failed');
    fail = false;
    const ok = await call(port, '/metrics');
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(ok.body).toBe('up 1\n# EOF\n');
  });

  it('HEAD works without a body; other methods get 405, unknown paths 404', async () => {
    setup();
    const { port } = await server!.start();
    const head = await call(port, '/health', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect((await call(port, '/state', 'POST')).status).toBe(405);
    const nf = await call(port, '/nope');
    expect(nf.status).toBe(404);
    expect(JSON.parse(nf.body).paths).toEqual(['/health', '/state', '/metrics']);
  });

  it('a failing provider gives 500 and a logged error, and the server keeps serving', async () => {
    const records: LogRecord[] = [];
    const off = addLogSink((r) => records.push(r));
    try {
      setup({ state: () => { throw new Error('gallery locked'); } });
      const { port } = await server!.start();
      const r = await call(port, '/state');
      expect(r.status).toBe(500);
      expect(JSON.parse(r.body).message).toBe('gallery locked');
      expect(records.some((x) => x.level === 'error' && x.module === 'http' && x.fields?.error === 'gallery locked')).toBe(true);
      expect((await call(port, '/health')).status).toBe(200);
    } finally {
      off();
    }
  });

  it('stop() closes the port, is idempotent, and a busy port fails start() clearly', async () => {
    setup();
    const { port } = await server!.start();
    await server!.stop();
    await server!.stop();
    await expect(call(port, '/health')).rejects.toThrow(/ECONNREFUSED/);

    const first = createStatusServer({ config: httpConfigSchema.parse({ port: 0 }), state: () => ({}) as never, health: () => ({ camera: 'up', lastTickAt: 0 }), metrics: () => '' });
    const a = await first.start();
    server = createStatusServer({ config: httpConfigSchema.parse({ port: a.port }), state: () => ({}) as never, health: () => ({ camera: 'up', lastTickAt: 0 }), metrics: () => '' });
    await expect(server.start()).rejects.toThrow(new RegExp(`cannot listen on 127.0.0.1:${a.port}: .*EADDRINUSE`));
    await first.stop();
  });

  it('warns when bound beyond loopback', async () => {
    const records: LogRecord[] = [];
    const off = addLogSink((r) => records.push(r));
    try {
      server = createStatusServer({ config: httpConfigSchema.parse({ host: '0.0.0.0', port: 0 }), state: () => ({}) as never, health: () => ({ camera: 'up', lastTickAt: 0 }), metrics: () => '' });
      await server.start();
      expect(records.some((x) => x.level === 'warn' && x.module === 'http')).toBe(true);
    } finally {
      off();
    }
  });
});

describe('evaluateHealth', () => {
  it('distinguishes starting, never ticked, stale and ok; camera down wins', () => {
    expect(evaluateHealth({ camera: 'starting', lastTickAt: null }, 1000, 5000)).toMatchObject({ status: 'unhealthy', reason: 'camera_starting' });
    expect(evaluateHealth({ camera: 'up', lastTickAt: null }, 1000, 5000)).toMatchObject({ reason: 'no_frame_yet' });
    expect(evaluateHealth({ camera: 'up', lastTickAt: 4000 }, 1000, 5000)).toEqual({ status: 'ok', lastTickAgeMs: 1000 });
    expect(evaluateHealth({ camera: 'up', lastTickAt: 3999 }, 1000, 5000)).toMatchObject({ reason: 'loop_stale', lastTickAgeMs: 1001 });
    expect(evaluateHealth({ camera: 'down', lastTickAt: 4999 }, 1000, 5000)).toMatchObject({ reason: 'camera_down' });
  });
});
