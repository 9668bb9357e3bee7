import { z } from 'zod';

const restartSchema = z
  .strictObject({
    initialDelayMs: z.number().int().min(1).default(500).describe('First restart delay after the camera process dies.'),
    maxDelayMs: z.number().int().min(1).default(30_000).describe('Cap of the exponential restart delay.'),
    factor: z.number().min(1).default(2).describe('Multiplier of the restart delay after each failed run.'),
    resetAfterMs: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe('A run that delivered frames for this long resets the delay to initialDelayMs.'),
  })
  .prefault({})
  .describe('Restart with capped exponential backoff when a camera process dies.');

export const cameraConfigSchema = z.strictObject({
  type: z
    .enum(['simulated', 'libcamera', 'gstreamer', 'v4l2'])
    .default('simulated')
    .describe('Camera driver: simulated (files), libcamera (Raspberry Pi CSI via rpicam-vid), gstreamer (Jetson CSI), v4l2 (USB webcam via ffmpeg).'),
  width: z.number().int().min(16).max(8192).default(640).describe('Requested frame width in pixels.'),
  height: z.number().int().min(16).max(8192).default(480).describe('Requested frame height in pixels.'),
  fps: z.number().min(0.1).max(240).default(15).describe('Requested (or, for simulated, played) frames per second.'),
  spectrum: z
    .enum(['rgb', 'nir'])
    .default('rgb')
    .describe(
      'What the sensor sees. rgb: a colour camera. nir: a near-infrared camera with its own IR illuminator (grey frames; a phone or monitor emits no near infrared, so a replay shows no face at all); ' +
        'the liveness cues trained or measured on colour (passive, screen_artifacts) are skipped, the geometric ones (screen_border, rigid_motion, blink) still run.',
    ),
  quality: z.number().int().min(1).max(100).default(85).describe('JPEG quality of the MJPEG stream where the driver sets it.'),
  maxFrameBytes: z
    .number()
    .int()
    .min(1024)
    .default(16 * 1024 * 1024)
    .describe('A frame larger than this is dropped as corrupt (bounds memory when a stream breaks).'),
  restart: restartSchema,
  simulated: z
    .strictObject({
      source: z
        .string()
        .default('../shared/video/real_webcam_apfol.mjpeg')
        .describe('Folder of images, raw .mjpeg file, video file (.mp4/.avi/..., needs ffmpeg) or scenario .json; relative to the working folder.'),
      kind: z
        .enum(['auto', 'folder', 'mjpeg', 'video', 'scenario'])
        .default('auto')
        .describe('How to read source; auto: folder if a directory, .json scenario, .mjpeg/.mjpg raw MJPEG, anything else video.'),
      loop: z.boolean().default(true).describe('Start over at the end; when false the camera ends after one pass.'),
      ffmpegPath: z.string().default('ffmpeg').describe('ffmpeg binary used to decode video files.'),
    })
    .prefault({})
    .describe('Simulated camera (tests, demos, laptops).'),
  libcamera: z
    .strictObject({
      camera: z.number().int().min(0).default(0).describe('Camera index (rpicam-vid --camera).'),
      binary: z
        .string()
        .default('auto')
        .describe('Video binary; auto: rpicam-vid, else libcamera-vid (older Raspberry Pi OS).'),
      hflip: z.boolean().default(false).describe('Mirror horizontally.'),
      vflip: z.boolean().default(false).describe('Flip vertically.'),
      extraArgs: z.array(z.string()).default([]).describe('Extra rpicam-vid arguments, appended before -o.'),
      stillWidth: z.number().int().min(0).default(0).describe('Enrolment still width; 0 = sensor default.'),
      stillHeight: z.number().int().min(0).default(0).describe('Enrolment still height; 0 = sensor default.'),
    })
    .prefault({})
    .describe('Raspberry Pi CSI camera through rpicam-apps.'),
  gstreamer: z
    .strictObject({
      sensorId: z.number().int().min(0).default(0).describe('nvarguscamerasrc sensor-id.'),
      flipMethod: z.number().int().min(0).max(7).default(0).describe('nvvidconv flip-method (0 none, 2 rotate 180, 4 mirror, ...).'),
      encoder: z
        .enum(['nvjpegenc', 'jpegenc'])
        .default('nvjpegenc')
        .describe('JPEG encoder: nvjpegenc (hardware, Jetson) or jpegenc (software fallback).'),
      binary: z.string().default('gst-launch-1.0').describe('gst-launch binary.'),
    })
    .prefault({})
    .describe('Jetson CSI camera through GStreamer.'),
  v4l2: z
    .strictObject({
      device: z.string().default('/dev/video0').describe('V4L2 device node.'),
      inputFormat: z
        .enum(['mjpeg', 'yuyv422'])
        .default('mjpeg')
        .describe('Format requested from the webcam; yuyv422 is encoded to JPEG by ffmpeg (costs CPU).'),
      transcode: z
        .boolean()
        .default(false)
        .describe('Re-encode MJPEG instead of copying it: for webcams whose frames lack Huffman tables or are malformed.'),
      ffmpegPath: z.string().default('ffmpeg').describe('ffmpeg binary.'),
    })
    .prefault({})
    .describe('USB webcam through ffmpeg.'),
});

export type CameraConfig = z.output<typeof cameraConfigSchema>;
export const defaultCameraConfig = (): CameraConfig => cameraConfigSchema.parse({});
