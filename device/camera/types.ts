import type { EventEmitter } from 'node:events';

export type FrameFormat = 'jpeg' | 'rgb24' | 'yuv420';

export interface Frame {
  data: Buffer;
  format: FrameFormat;
  width?: number;
  height?: number;
  /** Capture time, ms since the epoch (wall clock of this process when the frame was complete). */
  ts: number;
  /** Per-camera sequence number, increasing by one per produced frame (gaps = dropped frames). */
  seq: number;
}

export type CameraStatus = 'idle' | 'starting' | 'streaming' | 'restarting' | 'ended' | 'stopped';

export interface CameraStats {
  /** Frames the source produced. */
  produced: number;
  /** Frames handed to the consumer. */
  delivered: number;
  /** Frames overwritten in the one-slot mailbox before the consumer took them. */
  dropped: number;
  /** Child-process restarts (process-backed drivers). */
  restarts: number;
  /** Bytes skipped between frames by the MJPEG splitter. */
  garbageBytes: number;
  /** Frames dropped by the MJPEG splitter as truncated or corrupt. */
  corruptFrames: number;
}

/**
 * One camera, one consumer, latest frame wins: a slow consumer gets the newest frame it has not
 * seen and the frames in between are dropped and counted, never queued.
 *
 * Events: 'status' (CameraStatus), 'error' (Error; only emitted when someone listens, otherwise
 * logged), 'frame' is deliberately absent so that nothing can bypass the drop policy.
 */
export interface Camera extends EventEmitter {
  readonly kind: string;
  readonly status: CameraStatus;
  readonly stats: Readonly<CameraStats>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Newest unseen frame; waits for one. Rejects with CameraClosedError once stopped or ended and drained. */
  nextFrame(opts?: { signal?: AbortSignal }): Promise<Frame>;
  /** The same as repeated nextFrame() until the camera stops or ends. */
  frames(): AsyncIterableIterator<Frame>;
  /** A full-quality still for enrolment, where the driver supports one. */
  captureStill?(): Promise<Buffer>;
}

export class CameraClosedError extends Error {
  constructor(reason: string) {
    super(`camera closed: ${reason}`);
    this.name = 'CameraClosedError';
  }
}
