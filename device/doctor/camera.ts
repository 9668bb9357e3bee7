/**
 * Doctor: cameras the system sees, the configured driver's binary, and one test frame through
 * that driver. While the daemon runs it holds the camera, so its own report is used instead.
 */
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import type { DeviceConfig } from '../config.ts';
import type { Board } from '../gpio/board.ts';
import { libcameraVideoBinary } from '../camera/libcamera.ts';
import { jpegSize } from '../camera/mjpeg.ts';
import type { DaemonProbe } from './system.ts';
import { fail, ok, warn, type Check, type DoctorEnv } from './types.ts';

/** Parses `rpicam-hello --list-cameras`: "0 : imx708 [4608x2592 10-bit RGGB] (/base/...)". */
export function parseCameraList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => /^\s*(\d+)\s*:\s*(.+?)\s*(\(\/.*)?$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => `${m[1]}: ${m[2]}`);
}

export function checkCameraList(env: DoctorEnv, cfg: DeviceConfig): Check {
  const parts: string[] = [];
  let csi: string[] | undefined;
  const lister = ['rpicam-hello', 'libcamera-hello'].find((b) => env.which(b));
  if (lister) {
    const r = env.run(lister, ['--list-cameras'], 15_000);
    if (r) {
      csi = parseCameraList(r.stdout + '\n' + r.stderr);
      parts.push(`${lister}: ${csi.join(', ') || 'no cameras'}`);
    }
  }
  let video: string[] = [];
  try {
    video = readdirSync(env.devDir).filter((n) => /^video\d+$/.test(n)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  } catch {
    // no /dev
  }
  const shown = video.length > 6 ? `${video.slice(0, 6).join(' ')} ... (${video.length})` : video.join(' ');
  parts.push(`${env.devDir}: ${shown || 'no video nodes'}`);
  const found = parts.join('; ');
  const type = cfg.camera.type;
  if (type === 'libcamera' && !lister) return warn('cameras', found, 'install rpicam-apps (sudo apt install rpicam-apps) to list CSI cameras');
  if (type === 'libcamera' && csi && !csi.length) {
    return fail('cameras', found, 'no CSI camera detected: check the ribbon cable (contacts facing the right way) and camera_auto_detect=1 in /boot/firmware/config.txt, then reboot');
  }
  if (type === 'v4l2' && !existsSync(cfg.camera.v4l2.device)) return fail('cameras', found, `${cfg.camera.v4l2.device} does not exist: plug the webcam in, or set camera.v4l2.device`);
  return ok('cameras', found);
}

/** The binary (and node) the configured driver runs. */
export function checkCameraDriver(env: DoctorEnv, cfg: DeviceConfig, board: Board | null): Check {
  const c = cfg.camera;
  const missing = (bin: string, fix: string) => fail('camera driver', `${c.type}: ${bin} not found`, fix);
  if (c.type === 'simulated') {
    const what = `simulated from ${c.simulated.source}`;
    if (!existsSync(c.simulated.source)) return fail('camera driver', `${what}: not found`, 'set camera.simulated.source, or camera.type to the real camera');
    return board ? warn('camera driver', `${what} on a ${board.model}`, 'set camera.type to libcamera (Raspberry Pi), gstreamer (Jetson) or v4l2 (USB)') : ok('camera driver', what);
  }
  if (c.type === 'libcamera') {
    const bin = libcameraVideoBinary(c, env.which);
    return env.which(bin) ? ok('camera driver', `libcamera through ${env.which(bin)}, camera ${c.libcamera.camera}`) : missing(bin, 'sudo apt install rpicam-apps');
  }
  if (c.type === 'gstreamer') {
    const bin = env.which(c.gstreamer.binary);
    if (!bin) return missing(c.gstreamer.binary, 'install GStreamer (JetPack ships it: sudo apt install nvidia-l4t-gstreamer)');
    if (env.which('gst-inspect-1.0')) {
      const r = env.run('gst-inspect-1.0', ['nvarguscamerasrc'], 15_000);
      if (r && r.status !== 0) return fail('camera driver', `gstreamer through ${bin}: element nvarguscamerasrc not found`, 'install nvidia-l4t-gstreamer (JetPack) and check nvargus-daemon runs');
    }
    return ok('camera driver', `gstreamer through ${bin}, sensor ${c.gstreamer.sensorId}`);
  }
  const bin = env.which(c.v4l2.ffmpegPath);
  if (!bin) return missing(c.v4l2.ffmpegPath, 'sudo apt install ffmpeg');
  try {
    accessSync(c.v4l2.device, constants.R_OK | constants.W_OK);
  } catch {
    return fail('camera driver', `v4l2: no read/write access to ${c.v4l2.device}`, "add the daemon's user to the video group (the unit sets SupplementaryGroups=video)");
  }
  return ok('camera driver', `v4l2 ${c.v4l2.device} through ${bin}`);
}

/** One frame through the configured driver, unless the running daemon holds the camera. */
export async function checkCapture(env: DoctorEnv, cfg: DeviceConfig, daemon: DaemonProbe): Promise<Check> {
  if (daemon.running) {
    const cam = (daemon.state as { camera?: { status?: string; lastFrameAt?: string | null } } | undefined)?.camera;
    const what = `the running daemon holds the camera (no test capture): status ${cam?.status ?? 'unknown'}, last frame ${cam?.lastFrameAt ?? 'none'}`;
    return cam?.status === 'up' ? ok('camera capture', what) : fail('camera capture', what, 'see journalctl -u portier-device for the camera driver errors; stop the daemon and run doctor again for a test capture');
  }
  let camera;
  try {
    camera = env.createCamera({ ...cfg.camera, simulated: { ...cfg.camera.simulated, loop: true } });
    // The drivers report failures as 'error' events; the capture's timeout tells the outcome.
    const errors: string[] = [];
    camera.on('error', (e: Error) => errors.push(e.message));
    const started = Date.now();
    await camera.start();
    const frame = await camera.nextFrame({ signal: AbortSignal.timeout(env.captureTimeoutMs) }).catch((err: Error) => {
      throw new Error(`no frame within ${env.captureTimeoutMs} ms${errors.length ? ` (${errors.at(-1)})` : ''}: ${err.message}`);
    });
    const size = frame.width && frame.height ? frame : frame.format === 'jpeg' ? jpegSize(frame.data) : undefined;
    return ok('camera capture', `one ${frame.format} frame${size ? ` ${size.width}x${size.height}` : ''}, ${frame.data.length} bytes, after ${Date.now() - started} ms`);
  } catch (err) {
    const fix =
      cfg.camera.type === 'gstreamer'
        ? 'check nvargus-daemon (systemctl status nvargus-daemon) and the sensor-id; under systemd install the Jetson drop-in (systemd/portier-device.service.d/jetson.conf)'
        : cfg.camera.type === 'libcamera'
          ? `try rpicam-hello -t 2000 --camera ${cfg.camera.libcamera.camera}; another process may hold the camera`
          : 'check the device and that no other process holds it';
    return fail('camera capture', `${cfg.camera.type}: ${(err as Error).message}`, fix);
  } finally {
    await camera?.stop().catch(() => {});
  }
}

