/** Request bodies: size-limited reads, media types, JSON. */
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.ts';

/** Lower-cased media type without parameters ('' when there is no content-type). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

const tooLarge = (limit: number) => new ApiError(413, 'too_large', `request body is larger than ${limit} bytes`, undefined, { connection: 'close' });

/** Reads the whole body, refusing (413) as soon as it passes `limit`, announced or not. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const announced = Number(req.headers['content-length']);
  if (Number.isFinite(announced) && announced > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      // Drain the rest so the 413 can be written; the connection closes after it.
      req.resume();
      reject(err);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) return fail(tooLarge(limit));
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size));
    });
    req.once('error', (err) => fail(new ApiError(400, 'bad_request', `request body could not be read: ${err.message}`)));
    req.once('aborted', () => fail(new ApiError(400, 'bad_request', 'request aborted')));
  });
}

export function parseJson(buf: Buffer): unknown {
  if (buf.length === 0) return {};
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new ApiError(400, 'invalid_json', `request body is not valid JSON: ${(err as Error).message}`);
  }
}
