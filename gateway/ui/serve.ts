/**
 * Serves the admin UI on the API's port: /ui/app.js, /ui/app.css, and index.html for every other
 * GET outside /api and /metrics (client-side routes such as /people or /setup?token=...).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { uiBundle } from './bundle.ts';

export async function serveUi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = url.pathname;
  if (path.startsWith('/api/') || path === '/api' || path === '/metrics') return false;
  if (path === '/favicon.ico') {
    res.writeHead(204, { 'cache-control': 'max-age=86400' });
    res.end();
    return true;
  }
  const b = await uiBundle();
  const send = (type: string, body: string, cache: string) => {
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': cache });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (path === '/ui/app.js') send('text/javascript; charset=utf-8', b.js, 'no-cache');
  else if (path === '/ui/app.css') send('text/css; charset=utf-8', b.css, 'no-cache');
  else if (path.startsWith('/ui/')) return false;
  else send('text/html; charset=utf-8', b.html, 'no-store');
  return true;
}
