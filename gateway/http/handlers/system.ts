/** /api/health and /metrics. */
import { safeEqual } from '../../crypto/safe-equal.ts';
import type { Handler } from '../router.ts';
import { STREAMED } from '../router.ts';
import type { MetricsSource } from '../types.ts';

export const health: Handler = async (ctx) => {
  const extra = ctx.services.health ? await ctx.services.health() : {};
  return { status: 200, body: { status: 'ok', time: new Date(ctx.services.now()).toISOString(), ...extra } };
};

export const metricsHandler: Handler = async (ctx) => {
  const source: MetricsSource = ctx.services.metrics;
  const token = ctx.services.config.metricsToken;
  if (token) {
    const given = /^Bearer\s+(.+)$/i.exec(String(ctx.req.headers.authorization ?? ''))?.[1] ?? '';
    if (!safeEqual(given, token)) {
      return { status: 401, body: { error: 'unauthenticated', message: 'metrics need the bearer token' }, headers: { 'www-authenticate': 'Bearer' } };
    }
  }
  const text = typeof source === 'function' ? await source() : await source.registry.metrics();
  const type = typeof source === 'function' ? 'text/plain; version=0.0.4; charset=utf-8' : (source.registry.contentType ?? 'text/plain; version=0.0.4; charset=utf-8');
  ctx.res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  ctx.res.end(text);
  return STREAMED;
};
