/**
 * USB webcam: ffmpeg reads /dev/videoN and writes MJPEG to stdout. With an MJPEG-capable webcam
 * the compressed frames are copied through untouched (no CPU spent on encoding); `transcode`
 * re-encodes them for webcams whose frames decoders reject (e.g. no Huffman tables).
 */
import type { CameraConfig } from './config.ts';
import { ProcessCamera, type SpawnFn } from './process-camera.ts';

export function v4l2Args(cfg: CameraConfig): string[] {
  const v = cfg.v4l2;
  const input = ['-f', 'v4l2', '-input_format', v.inputFormat, '-video_size', `${cfg.width}x${cfg.height}`, '-framerate', String(cfg.fps), '-i', v.device];
  const copy = v.inputFormat === 'mjpeg' && !v.transcode;
  // ffmpeg's -q:v scale is 2 (best)..31 (worst); map the 1..100 quality onto it.
  const q = String(Math.max(2, Math.min(31, Math.round(31 - (cfg.quality / 100) * 29))));
  const output = copy ? ['-c:v', 'copy'] : ['-c:v', 'mjpeg', '-q:v', q];
  return ['-hide_banner', '-loglevel', 'error', '-nostdin', ...input, ...output, '-f', 'mjpeg', 'pipe:1'];
}

export class V4l2Camera extends ProcessCamera {
  constructor(cfg: CameraConfig, deps: { spawn?: SpawnFn } = {}) {
    super({
      kind: 'v4l2',
      command: () => ({ command: cfg.v4l2.ffmpegPath, args: v4l2Args(cfg) }),
      restart: cfg.restart,
      spawn: deps.spawn,
      maxFrameBytes: cfg.maxFrameBytes,
    });
  }
}
