import { describe, expect, it } from 'vitest';
import { cameraConfigSchema } from '../../../device/camera/config.ts';
import { createCamera } from '../../../device/camera/create.ts';
import { gstreamerArgs } from '../../../device/camera/gstreamer.ts';
import { libcameraVideoBinary, rpicamVidArgs } from '../../../device/camera/libcamera.ts';
import { v4l2Args } from '../../../device/camera/v4l2.ts';

const cfg = (over: Record<string, unknown>) => cameraConfigSchema.parse({ width: 1280, height: 720, fps: 30, quality: 80, ...over });

describe('camera command lines', () => {
  it('rpicam-vid: endless MJPEG to stdout without preview', () => {
    const args = rpicamVidArgs(cfg({ type: 'libcamera', libcamera: { camera: 1, hflip: true } }));
    expect(args.join(' ')).toBe(
      '-t 0 --camera 1 --codec mjpeg --quality 80 --width 1280 --height 720 --framerate 30 --nopreview --flush --hflip -o -',
    );
  });

  it('falls back to libcamera-vid on older Raspberry Pi OS', () => {
    const c = cfg({ type: 'libcamera' });
    expect(libcameraVideoBinary(c, (n) => (n === 'rpicam-vid' ? '/usr/bin/rpicam-vid' : undefined))).toBe('rpicam-vid');
    expect(libcameraVideoBinary(c, (n) => (n === 'libcamera-vid' ? '/usr/bin/libcamera-vid' : undefined))).toBe('libcamera-vid');
    expect(libcameraVideoBinary(cfg({ libcamera: { binary: '/opt/x/rpicam-vid' } }), () => undefined)).toBe('/opt/x/rpicam-vid');
  });

  it('gst-launch: nvarguscamerasrc through nvvidconv to nvjpegenc on stdout', () => {
    expect(gstreamerArgs(cfg({ gstreamer: { sensorId: 1, flipMethod: 2 } }))).toEqual([
      '-q', 'nvarguscamerasrc', 'sensor-id=1', '!',
      'video/x-raw(memory:NVMM),width=1280,height=720,framerate=30/1', '!',
      'nvvidconv', 'flip-method=2', '!', 'video/x-raw(memory:NVMM),format=I420', '!', 'nvjpegenc', 'quality=80', '!',
      'fdsink', 'fd=1',
    ]);
    const sw = gstreamerArgs(cfg({ fps: 7.5, gstreamer: { encoder: 'jpegenc' } }));
    expect(sw).toContain('video/x-raw,format=I420');
    expect(sw).toContain('jpegenc');
    expect(sw[4]).toContain('framerate=7500/1000');
  });

  it('v4l2 via ffmpeg: copies MJPEG, or re-encodes when asked', () => {
    const copy = v4l2Args(cfg({ v4l2: { device: '/dev/video2' } }));
    expect(copy.join(' ')).toBe(
      '-hide_banner -loglevel error -nostdin -f v4l2 -input_format mjpeg -video_size 1280x720 -framerate 30 -i /dev/video2 -c:v copy -f mjpeg pipe:1',
    );
    const tr = v4l2Args(cfg({ v4l2: { inputFormat: 'yuyv422' } }));
    expect(tr.slice(tr.indexOf('-c:v'), tr.indexOf('-c:v') + 4)).toEqual(['-c:v', 'mjpeg', '-q:v', '8']);
  });

  it('rejects unknown keys and picks the driver by type', () => {
    expect(() => cameraConfigSchema.parse({ tpye: 'v4l2' })).toThrow();
    expect(createCamera(cfg({ type: 'v4l2' })).kind).toBe('v4l2');
    expect(createCamera(cfg({ type: 'gstreamer' })).kind).toBe('gstreamer');
    expect(createCamera(cfg({ type: 'libcamera' })).kind).toBe('libcamera');
    expect(createCamera(cfg({})).kind).toBe('simulated');
  });
});
