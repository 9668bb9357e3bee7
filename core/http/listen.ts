/**
 * One HTTP listener for the device's status endpoint and the gateway's API: bounded header and
 * request times, every socket tracked so stop() does not wait for keep-alive connections (or an
 * open event stream) to time out, and a listen error reported as a clear start-up failure.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../log/logger.ts';

export interface ListenOptions {
  host: string;
  port: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Names the server in errors and logs ("status endpoint", "gateway API"). */
  what: string;
  log: Logger;
}

export interface Listening {
  address: { host: string; port: number };
  stop(): Promise<void>;
}

export function listenHttp(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>, o: ListenOptions): Promise<Listening> {
  // The handler catches its own errors; void marks the promise as deliberately not awaited.
  const srv = createServer((req, res) => void handler(req, res));
  srv.headersTimeout = o.headersTimeoutMs;
  srv.requestTimeout = o.requestTimeoutMs;
  const sockets = new Set<Socket>();
  srv.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= new Promise<void>((resolve) => {
      srv.close(() => resolve());
      for (const s of sockets) s.destroy();
      sockets.clear();
    }));
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`${o.what} cannot listen on ${o.host}:${o.port}: ${err.message}`));
    srv.once('error', onError);
    srv.listen(o.port, o.host, () => {
      srv.off('error', onError);
      srv.on('error', (err) => o.log.error(`${o.what} error`, { error: err.message }));
      const addr = srv.address() as AddressInfo;
      resolve({ address: { host: addr.address, port: addr.port }, stop });
    });
  });
}
