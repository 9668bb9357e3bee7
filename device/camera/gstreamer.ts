/**
 * Jetson CSI camera: gst-launch-1.0 with nvarguscamerasrc (Argus ISP) -> NVMM caps -> nvvidconv
 * -> JPEG encoder -> fdsink on stdout. `-q` keeps gst-launch's own messages off stdout, which
 * carries the JPEG stream. Arguments are passed without a shell, so the caps need no quoting.
 */
import type { CameraConfig } from './config.ts';
import { ProcessCamera, type SpawnFn } from './process-camera.ts';

export function gstreamerArgs(cfg: CameraConfig): string[] {
  const g = cfg.gstreamer;
  const fps = Number.isInteger(cfg.fps) ? `${cfg.fps}/1` : `${Math.round(cfg.fps * 1000)}/1000`;
  const caps = `video/x-raw(memory:NVMM),width=${cfg.width},height=${cfg.height},framerate=${fps}`;
  const encode =
    g.encoder === 'nvjpegenc'
      ? ['nvvidconv', `flip-method=${g.flipMethod}`, '!', 'video/x-raw(memory:NVMM),format=I420', '!', 'nvjpegenc', `quality=${cfg.quality}`]
      : ['nvvidconv', `flip-method=${g.flipMethod}`, '!', 'video/x-raw,format=I420', '!', 'jpegenc', `quality=${cfg.quality}`];
  return ['-q', 'nvarguscamerasrc', `sensor-id=${g.sensorId}`, '!', caps, '!', ...encode, '!', 'fdsink', 'fd=1'];
}

export class GstreamerCamera extends ProcessCamera {
  constructor(cfg: CameraConfig, deps: { spawn?: SpawnFn } = {}) {
    super({
      kind: 'gstreamer',
      command: () => ({ command: cfg.gstreamer.binary, args: gstreamerArgs(cfg) }),
      restart: cfg.restart,
      spawn: deps.spawn,
      maxFrameBytes: cfg.maxFrameBytes,
    });
  }
}
