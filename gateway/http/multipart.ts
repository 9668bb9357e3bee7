/**
 * multipart/form-data (RFC 7578) for photo uploads. The body is read whole first (bounded by
 * maxUploadBytes), so parsing is a scan for the boundary lines; limits on part count and header
 * size keep a hostile body from costing more than its bytes.
 */
import { ApiError } from './errors.ts';

export interface MultipartPart {
  /** Form field name. */
  name: string;
  /** File name when the part is a file upload, else null. */
  filename: string | null;
  contentType: string | null;
  data: Buffer;
}

const bad = (why: string) => new ApiError(400, 'invalid_multipart', `multipart body: ${why}`);

/** The value of one parameter of a header (quoted or token), e.g. boundary or filename. */
export function headerParam(header: string, name: string): string | null {
  const re = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]+))`, 'i');
  const m = re.exec(header);
  if (!m) return null;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}

function filenameOf(disposition: string): string | null {
  const star = headerParam(disposition, 'filename\\*');
  if (star) {
    const m = /^([^']*)'[^']*'(.*)$/.exec(star);
    if (m) {
      try {
        return decodeURIComponent(m[2]);
      } catch {
        // fall back to the plain filename
      }
    }
  }
  return headerParam(disposition, 'filename');
}

export function parseMultipart(body: Buffer, contentType: string, limits: { maxParts: number; maxHeaderBytes?: number } = { maxParts: 50 }): MultipartPart[] {
  const boundary = headerParam(contentType, 'boundary');
  if (!boundary || boundary.length > 200) throw bad('content-type has no usable boundary');
  const maxHeader = limits.maxHeaderBytes ?? 8192;
  const delim = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  const parts: MultipartPart[] = [];
  // The first delimiter may follow a preamble; RFC 2046 puts it at the start or after CRLF.
  let pos = body.indexOf(delim);
  if (pos !== 0 && (pos < 2 || body[pos - 1] !== 0x0a)) {
    pos = body.indexOf(next);
    if (pos < 0) throw bad('no boundary line');
    pos += 2;
  }
  for (;;) {
    pos += delim.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts; // closing "--"
    // Transport padding (spaces/tabs) may sit before the CRLF.
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) throw bad('boundary line not followed by CRLF');
    pos += 2;
    const headEnd = body.indexOf('\r\n\r\n', pos);
    if (headEnd < 0 || headEnd - pos > maxHeader) throw bad('part headers missing or too long');
    const headers = new Map<string, string>();
    for (const line of body.subarray(pos, headEnd).toString('utf8').split('\r\n')) {
      if (!line) continue;
      const i = line.indexOf(':');
      if (i <= 0) throw bad(`malformed part header "${line.slice(0, 40)}"`);
      headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    const start = headEnd + 4;
    const end = body.indexOf(next, start);
    if (end < 0) throw bad('body ends inside a part (no closing boundary)');
    const disposition = headers.get('content-disposition') ?? '';
    if (!/^form-data\b/i.test(disposition)) throw bad('part without Content-Disposition: form-data');
    const name = headerParam(disposition, 'name');
    if (name === null) throw bad('part without a field name');
    if (parts.length >= limits.maxParts) throw new ApiError(413, 'too_many_parts', `more than ${limits.maxParts} parts in one request`);
    parts.push({ name, filename: filenameOf(disposition), contentType: headers.get('content-type') ?? null, data: body.subarray(start, end) });
    pos = end + 2;
  }
}
