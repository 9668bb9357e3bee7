import { EventEmitter } from 'node:events';
import { createLogger, type Logger } from '../../core/log/logger.ts';
import { FrameMailbox } from './mailbox.ts';
import { jpegSize } from './mjpeg.ts';
import { CameraClosedError, type Camera, type CameraStats, type CameraStatus, type Frame, type FrameFormat } from './types.ts';

/** Shared plumbing of every driver: mailbox, sequence numbers, stats, status and error events. */
export abstract class BaseCamera extends EventEmitter implements Camera {
  abstract readonly kind: string;
  protected readonly log: Logger;
  protected readonly mailbox = new FrameMailbox();
  private seq = 0;
  private _status: CameraStatus = 'idle';
  private readonly counters = { produced: 0, restarts: 0 };

  constructor(logName: string, protected readonly now: () => number = Date.now) {
    super();
    this.log = createLogger(logName);
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  get status(): CameraStatus {
    return this._status;
  }

  get stats(): CameraStats {
    const split = this.splitterStats();
    return {
      produced: this.counters.produced,
      delivered: this.mailbox.delivered,
      dropped: this.mailbox.dropped,
      restarts: this.counters.restarts,
      garbageBytes: split.garbageBytes,
      corruptFrames: split.corruptFrames,
    };
  }

  nextFrame(opts?: { signal?: AbortSignal }): Promise<Frame> {
    return this.mailbox.take(opts);
  }

  async *frames(): AsyncIterableIterator<Frame> {
    for (;;) {
      try {
        yield await this.mailbox.take();
      } catch (err) {
        if (err instanceof CameraClosedError) return;
        throw err;
      }
    }
  }

  /** Drivers with an MJPEG splitter override this. */
  protected splitterStats(): { garbageBytes: number; corruptFrames: number } {
    return { garbageBytes: 0, corruptFrames: 0 };
  }

  protected countRestart(): void {
    this.counters.restarts++;
  }

  protected setStatus(s: CameraStatus): void {
    if (s === this._status) return;
    this._status = s;
    this.emit('status', s);
  }

  protected publish(data: Buffer, format: FrameFormat = 'jpeg', size?: { width: number; height: number }): void {
    const dims = size ?? (format === 'jpeg' ? jpegSize(data) : undefined);
    this.counters.produced++;
    this.mailbox.put({ data, format, width: dims?.width, height: dims?.height, ts: this.now(), seq: this.seq++ });
  }

  /** An 'error' event without a listener would crash the process; log instead. */
  protected reportError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.log.error(err.message);
  }
}
