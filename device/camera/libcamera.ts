/**
 * Raspberry Pi CSI camera: one long-running `rpicam-vid` (Bookworm and later; `libcamera-vid`
 * on older images) writing MJPEG to stdout. Flags per the rpicam-apps documentation:
 * `-t 0` runs forever, `--codec mjpeg` one JPEG per frame, `-o -` to stdout, `--flush` so every
 * frame leaves the pipe at once instead of sitting in a stdio buffer.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CameraConfig } from './config.ts';
import { ProcessCamera, type SpawnFn } from './process-camera.ts';
import { findExecutable } from './which.ts';

export function libcameraVideoBinary(cfg: CameraConfig, find: (n: string) => string | undefined = findExecutable): string {
  if (cfg.libcamera.binary !== 'auto') return cfg.libcamera.binary;
  return find('rpicam-vid') ? 'rpicam-vid' : find('libcamera-vid') ? 'libcamera-vid' : 'rpicam-vid';
}

export function rpicamVidArgs(cfg: CameraConfig): string[] {
  const l = cfg.libcamera;
  const args = ['-t', '0', '--camera', String(l.camera), '--codec', 'mjpeg', '--quality', String(cfg.quality)];
  args.push('--width', String(cfg.width), '--height', String(cfg.height), '--framerate', String(cfg.fps));
  args.push('--nopreview', '--flush');
  if (l.hflip) args.push('--hflip');
  if (l.vflip) args.push('--vflip');
  args.push(...l.extraArgs, '-o', '-');
  return args;
}

/** Runs a still capture to a file; node-libcamera's `still` in production, a fake in tests. */
export type StillRunner = (options: Record<string, unknown>) => Promise<unknown>;

async function nodeLibcameraStill(options: Record<string, unknown>): Promise<unknown> {
  const mod = await import('node-libcamera');
  return mod.still(options as Parameters<typeof mod.still>[0]);
}

export interface LibcameraDeps {
  spawn?: SpawnFn;
  still?: StillRunner;
  find?: (name: string) => string | undefined;
}

export class LibcameraCamera extends ProcessCamera {
  private readonly stillRunner: StillRunner;

  constructor(private readonly cfg: CameraConfig, deps: LibcameraDeps = {}) {
    super({
      kind: 'libcamera',
      command: () => ({ command: libcameraVideoBinary(cfg, deps.find), args: rpicamVidArgs(cfg) }),
      restart: cfg.restart,
      spawn: deps.spawn,
      maxFrameBytes: cfg.maxFrameBytes,
    });
    this.stillRunner = deps.still ?? nodeLibcameraStill;
  }

  /**
   * Full-resolution JPEG for enrolment. libcamera gives a camera to one process at a time, so
   * the video process is paused for the capture (the frame loop waits, it does not end) and
   * started again afterwards.
   */
  async captureStill(): Promise<Buffer> {
    const wasRunning = this.status !== 'idle' && this.status !== 'stopped';
    if (wasRunning) await this.pause();
    const out = join(tmpdir(), `portier-still-${randomUUID()}.jpg`);
    // node-libcamera turns every key into a flag (even false ones), so only set keys we mean.
    const options: Record<string, unknown> = { output: out, timeout: 1000, nopreview: true, camera: this.cfg.libcamera.camera };
    if (this.cfg.libcamera.stillWidth) options.width = this.cfg.libcamera.stillWidth;
    if (this.cfg.libcamera.stillHeight) options.height = this.cfg.libcamera.stillHeight;
    if (this.cfg.libcamera.hflip) options.hflip = true;
    if (this.cfg.libcamera.vflip) options.vflip = true;
    try {
      await this.stillRunner(options);
      return await readFile(out);
    } finally {
      await rm(out, { force: true });
      if (wasRunning) await this.start();
    }
  }
}
