import type { CameraConfig } from './config.ts';
import { GstreamerCamera } from './gstreamer.ts';
import { LibcameraCamera, type LibcameraDeps } from './libcamera.ts';
import type { SpawnFn } from './process-camera.ts';
import { SimulatedCamera } from './simulated.ts';
import type { Camera } from './types.ts';
import { V4l2Camera } from './v4l2.ts';

/** The camera driver chosen by `camera.type`. Nothing starts until `start()`. */
export function createCamera(cfg: CameraConfig, deps: { spawn?: SpawnFn; still?: LibcameraDeps['still'] } = {}): Camera {
  switch (cfg.type) {
    case 'simulated':
      return new SimulatedCamera(cfg);
    case 'libcamera':
      return new LibcameraCamera(cfg, deps);
    case 'gstreamer':
      return new GstreamerCamera(cfg, deps);
    case 'v4l2':
      return new V4l2Camera(cfg, deps);
  }
}
