/**
 * Incremental MJPEG splitter: turns a byte stream of concatenated JPEGs (camera stdout, .mjpeg
 * files) into whole frames. It walks the JPEG marker structure instead of searching for FFD9,
 * because an EXIF thumbnail inside APP1 carries its own FFD8..FFD9 and entropy-coded data may
 * contain FF00 (byte stuffing) and FFD0-FFD7 (restart markers) that are not frame boundaries.
 * Garbage between frames is skipped and counted; a frame broken off by a new SOI or a bad
 * marker is dropped and counted, never thrown.
 */

const enum State {
  SeekSoi,
  Marker,
  Entropy,
}

export interface SplitterStats {
  frames: number;
  /** Bytes outside any frame that were skipped while looking for a start-of-image marker. */
  garbageBytes: number;
  /** Frames dropped because their structure broke off (truncation, corruption, size limit). */
  corruptFrames: number;
}

export class MjpegSplitter {
  readonly stats: SplitterStats = { frames: 0, garbageBytes: 0, corruptFrames: 0 };
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private frameStart = -1;
  private state = State.SeekSoi;
  private sawScan = false;

  /** maxFrameBytes bounds memory when an end-of-image marker never arrives. */
  constructor(private readonly maxFrameBytes = 16 * 1024 * 1024) {}

  /** Feed a chunk; returns the frames it completed (each a copy that owns its bytes). */
  push(chunk: Uint8Array): Buffer[] {
    const keepFrom = this.frameStart >= 0 ? this.frameStart : this.pos;
    const rest = this.buf.subarray(keepFrom);
    this.buf = rest.length ? Buffer.concat([rest, chunk]) : Buffer.from(chunk);
    this.pos -= keepFrom;
    if (this.frameStart >= 0) this.frameStart -= keepFrom;
    const out: Buffer[] = [];
    this.parse(out);
    if (this.frameStart >= 0 && this.buf.length - this.frameStart > this.maxFrameBytes) this.dropFrame();
    return out;
  }

  /** Bytes held for an unfinished frame (what `end()` would discard). */
  get pendingBytes(): number {
    return this.frameStart >= 0 ? this.buf.length - this.frameStart : 0;
  }

  /** End of stream: an unfinished frame counts as corrupt. */
  end(): void {
    if (this.frameStart >= 0) this.stats.corruptFrames++;
    else this.stats.garbageBytes += Math.max(0, this.buf.length - this.pos);
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    this.frameStart = -1;
    this.sawScan = false;
    this.state = State.SeekSoi;
  }

  /**
   * `resumeAt`: where the next frame is known to start (a new SOI); otherwise rescan from just
   * after the broken frame's SOI, since the next frame may start inside it.
   */
  private dropFrame(resumeAt?: number): void {
    this.stats.corruptFrames++;
    this.pos = resumeAt ?? this.frameStart + 2;
    this.frameStart = -1;
    this.sawScan = false;
    this.state = State.SeekSoi;
  }

  private parse(out: Buffer[]): void {
    const b = this.buf;
    const n = b.length;
    for (;;) {
      if (this.state === State.SeekSoi) {
        let i = this.pos;
        while (i + 2 < n && !(b[i] === 0xff && b[i + 1] === 0xd8 && b[i + 2] === 0xff)) i++;
        if (i + 2 >= n) {
          // Keep up to two bytes: they may be the start of an SOI split across chunks.
          const keep = Math.max(this.pos, n - 2);
          this.stats.garbageBytes += keep - this.pos;
          this.pos = keep;
          return;
        }
        this.stats.garbageBytes += i - this.pos;
        this.frameStart = i;
        this.pos = i + 2;
        this.state = State.Marker;
      } else if (this.state === State.Marker) {
        let i = this.pos;
        if (i >= n) return;
        if (b[i] !== 0xff) {
          this.dropFrame();
          continue;
        }
        while (i + 1 < n && b[i + 1] === 0xff) i++; // fill bytes before a marker
        if (i + 1 >= n) return;
        const m = b[i + 1];
        if (m === 0xd9 && !this.sawScan) {
          // SOI..EOI without image data is no frame (e.g. a thumbnail met while rescanning a
          // broken frame): count its bytes as garbage.
          this.stats.garbageBytes += i + 2 - this.frameStart;
          this.pos = i + 2;
          this.frameStart = -1;
          this.state = State.SeekSoi;
        } else if (m === 0xd9) {
          this.sawScan = false;
          out.push(Buffer.from(b.subarray(this.frameStart, i + 2)));
          this.stats.frames++;
          this.pos = i + 2;
          this.frameStart = -1;
          this.state = State.SeekSoi;
        } else if (m === 0xd8) {
          // A new SOI before EOI: the previous frame was truncated.
          this.dropFrame(i);
        } else if (m === 0x00) {
          this.dropFrame();
        } else if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
          this.pos = i + 2;
        } else {
          if (i + 3 >= n) return;
          const len = b.readUInt16BE(i + 2);
          if (len < 2) {
            this.dropFrame();
            continue;
          }
          const next = i + 2 + len;
          if (next > n) return;
          this.pos = next;
          if (m === 0xda) {
            this.sawScan = true;
            this.state = State.Entropy;
          }
        }
      } else {
        let i = this.pos;
        for (;;) {
          const j = b.indexOf(0xff, i);
          if (j < 0 || j + 1 >= n) {
            this.pos = j < 0 ? n : j;
            return;
          }
          const m = b[j + 1];
          if (m === 0x00 || (m >= 0xd0 && m <= 0xd7)) {
            i = j + 2;
            continue;
          }
          if (m === 0xff) {
            i = j + 1;
            continue;
          }
          this.pos = j;
          this.state = State.Marker;
          break;
        }
      }
    }
  }
}

/** Split a whole buffer (e.g. a .mjpeg file read at once). */
export function splitMjpeg(data: Uint8Array): { frames: Buffer[]; stats: SplitterStats } {
  const s = new MjpegSplitter(Number.MAX_SAFE_INTEGER);
  const frames = s.push(data);
  s.end();
  return { frames, stats: s.stats };
}

/** Width and height from a JPEG's SOF header, or undefined when there is none. */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 9 < jpeg.length) {
    if (jpeg[i] !== 0xff) return undefined;
    const m = jpeg[i + 1];
    if (m === 0xff) {
      i++;
      continue;
    }
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      i += 2;
      continue;
    }
    const len = (jpeg[i + 2] << 8) | jpeg[i + 3];
    const isSof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
    if (isSof) return { height: (jpeg[i + 5] << 8) | jpeg[i + 6], width: (jpeg[i + 7] << 8) | jpeg[i + 8] };
    if (m === 0xda || m === 0xd9) return undefined;
    i += 2 + len;
  }
  return undefined;
}
