import { CameraClosedError, type Frame } from './types.ts';

/**
 * A one-slot mailbox between a camera and its single consumer. `put` never blocks and never
 * grows memory: an untaken frame is replaced and counted as dropped.
 */
export class FrameMailbox {
  dropped = 0;
  delivered = 0;
  private slot: Frame | undefined;
  private waiter: { resolve: (f: Frame) => void; reject: (e: Error) => void; cleanup: () => void } | undefined;
  private closedReason: string | undefined;

  put(frame: Frame): void {
    if (this.closedReason !== undefined) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.cleanup();
      this.delivered++;
      w.resolve(frame);
      return;
    }
    if (this.slot) this.dropped++;
    this.slot = frame;
  }

  take(opts: { signal?: AbortSignal } = {}): Promise<Frame> {
    if (this.slot) {
      const f = this.slot;
      this.slot = undefined;
      this.delivered++;
      return Promise.resolve(f);
    }
    if (this.closedReason !== undefined) return Promise.reject(new CameraClosedError(this.closedReason));
    if (this.waiter) return Promise.reject(new Error('camera already has a waiting consumer (one consumer only)'));
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    return new Promise<Frame>((resolve, reject) => {
      const onAbort = () => {
        this.waiter = undefined;
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = { resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) };
    });
  }

  /** Reopen after close (a stopped camera that is started again). */
  reopen(): void {
    this.closedReason = undefined;
    this.slot = undefined;
  }

  /** A frame still in the slot stays takeable; later takes reject. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.cleanup();
      w.reject(new CameraClosedError(reason));
    }
  }

  /** Dispose of an unread frame (on stop: a stale frame must not be handed out later). */
  clear(): void {
    this.slot = undefined;
  }
}
