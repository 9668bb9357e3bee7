/** Just enough of ustar to pull regular files out of an npm tarball, with no dependency. */
import { gunzipSync } from 'node:zlib';

export interface TarEntry {
  name: string;
  data: Buffer;
}

function field(buf: Buffer, start: number, len: number): string {
  const raw = buf.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

/** Parse a .tgz (or plain .tar) buffer. Throws on a truncated archive. */
export function readTarball(input: Buffer): TarEntry[] {
  const tar = input[0] === 0x1f && input[1] === 0x8b ? gunzipSync(input) : input;
  const entries: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 48);
    const prefix = field(header, 345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    const start = off + 512;
    if (start + size > tar.length) throw new Error(`tarball truncated inside ${name}`);
    const data = tar.subarray(start, start + size);
    if (type === 'L') longName = data.toString('utf8').replace(/\0.*$/s, '');
    else if (type === '0' || type === '\0') entries.push({ name, data: Buffer.from(data) });
    off = start + Math.ceil(size / 512) * 512;
  }
  return entries;
}
