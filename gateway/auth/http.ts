/** Small HTTP helpers for the auth routes: bounded JSON bodies, JSON replies, cookies, origin checks. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError } from './db.ts';

export const SESSION_COOKIE = 'portier_session';

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string | string[]> = {}): void {
  const body = JSON.stringify(value) + '\n';
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, error: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error, message }, headers);
}

/**
 * Reads a JSON object body of at most `limit` bytes. Only `application/json` is accepted: an HTML
 * form on another site cannot send that type without a CORS preflight, which we never grant.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw new AuthError(415, 'unsupported_media_type', 'send the body as application/json');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new AuthError(413, 'body_too_large', `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new AuthError(413, 'body_too_large', `body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AuthError(400, 'invalid_json', 'body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new AuthError(400, 'invalid_body', 'body must be a JSON object');
  return value as Record<string, unknown>;
}

export function readCookie(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export function sessionCookie(id: string, maxAgeMs: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const last = (Array.isArray(xff) ? xff.join(',') : (xff ?? '')).split(',').pop()?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * Same-origin check from the browser's own headers. Absent headers pass (curl, old browsers:
 * the CSRF token still applies); present ones must say same-origin.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const host = req.headers.host;
    if (!host || /[@/\\?#\s]/.test(host)) return false;
    try {
      // "null" (sandboxed/opaque origins) throws and is refused. The Host header is parsed with the
      // origin's scheme so a default port written out (":80") still compares equal.
      const o = new URL(origin);
      if (o.host !== new URL(`${o.protocol}//${host}`).host) return false;
    } catch {
      return false;
    }
  }
  return true;
}
