import { z } from 'zod';

/** Which model file a stage loads; `int8` falls back to `fp32` with a logged reason. */
export const precisionSchema = z.enum(['fp32', 'int8']);

/**
 * Only providers an onnxruntime-node binding can be built with for our boards. xnnpack is not in
 * the Node binding at all; webgpu is in the linux-x64 npm build only, experimental, and needs a
 * Vulkan adapter none of our boards' npm builds can use.
 */
export const executionProviderSchema = z.enum(['cpu', 'cuda', 'tensorrt']);

export const visionConfigSchema = z.strictObject({
  decodeMaxSide: z.number().int().min(0).default(1920).describe('Photos larger than this (longer side, px) are downscaled at decode; 0 = never.'),
  modelDir: z.string().default('models').describe('Folder holding the ONNX models (fetched by npm install).'),
  executionProviders: z
    .array(executionProviderSchema)
    .default(['cpu'])
    .describe(
      'onnxruntime execution providers in order of preference; one that cannot load falls back to the next, cpu last, with a warning. ' +
        '`cpu`: every npm build (the int8 models are the fast path). ' +
        '`tensorrt`: NVIDIA TensorRT (int8 QDQ models on its int8 path, engines cached under vision.tensorrt.engineCacheDir); list `cuda` after it for the nodes TensorRT cannot take. ' +
        '`cuda`: NVIDIA CUDA kernels. ' +
        'The npm onnxruntime-node binary has neither on linux-arm64, and on linux-x64 only with the NuGet download this project skips (.npmrc): on a Jetson build them with scripts/build-onnxruntime-jetson.sh.',
    ),
  tensorrt: z
    .strictObject({
      engineCacheDir: z
        .string()
        .default('tensorrt-cache')
        .describe('Folder for built TensorRT engines (trt_engine_cache_path), so a restart loads them instead of rebuilding for minutes; relative to the store folder (store.dir on the device).'),
      int8: z.boolean().default(true).describe('Feed the int8 (QDQ) models to TensorRT\'s int8 path (trt_int8_enable); off runs them as TensorRT sees fit, usually fp32.'),
      fp16: z
        .boolean()
        .default(false)
        .describe('Let TensorRT run the layers left in floating point at fp16 (trt_fp16_enable). Off by default: the match and liveness thresholds were measured in fp32.'),
    })
    .prefault({})
    .describe('TensorRT execution provider settings (used only when executionProviders lists tensorrt).'),
  intraOpThreads: z.number().int().min(0).default(0).describe('Threads per model run; 0 = number of CPU cores.'),
  parallelLiveness: z
    .boolean()
    .default(true)
    .describe('Run the liveness model on its own worker thread (one core) while landmarks and embedding run on the main thread.'),
  precision: z
    .strictObject({
      detect: precisionSchema.default('int8').describe('Detector model precision (int8 falls back to fp32 with a logged reason when models/fr_detect.int8.onnx is missing or fails its check).'),
      landmark: precisionSchema.default('int8').describe('Landmark model precision.'),
      feature: precisionSchema.default('int8').describe('Embedding model precision (int8: LFW accuracy within 0.1 point of fp32, see npm run eval -- --vs).'),
      liveness: precisionSchema
        .default('int8')
        .describe(
          'Liveness model precision. int8 (recipe percentile 99.999, PRelu in int8) runs about 1.5x faster on one core and ranks like fp32: on 1,194 frames of ../shared/spoof and the live and attack clips, live-probability log-odds correlate 0.98 with fp32, AUC 0.80 (fp32 0.77), APCER 27% / BPCER 24% at the threshold (fp32 30% / 28%), same verdict for every clip and subject; fp32 is the reference.',
        ),
    })
    .prefault({})
    .describe('Per-model precision; int8 models are made by npm run quantize (run by npm install when ../shared calibration images are present).'),
  detector: z
    .strictObject({
      scoreThreshold: z.number().min(0).max(1).default(0.7).describe('Minimum detector confidence for a face.'),
      nmsIou: z.number().min(0).max(1).default(0.4).describe('IoU above which overlapping boxes are merged by NMS.'),
      maxFaces: z.number().int().min(1).default(10).describe('Most faces kept per image, largest first.'),
    })
    .prefault({})
    .describe('Face detector.'),
  quality: z
    .strictObject({
      minFaceSize: z.number().min(0).default(40).describe('Smallest accepted face box side, in pixels of the source image.'),
      maxYaw: z.number().min(0).max(90).default(40).describe('Largest accepted head yaw (degrees, from landmarks).'),
      maxPitch: z.number().min(0).max(90).default(35).describe('Largest accepted head pitch (degrees, from landmarks).'),
      minSharpness: z.number().min(0).default(20).describe('Smallest accepted Laplacian variance of the aligned face (blur gate).'),
      minBrightness: z.number().min(0).max(255).default(40).describe('Smallest accepted mean grey level of the aligned face.'),
      maxBrightness: z.number().min(0).max(255).default(225).describe('Largest accepted mean grey level of the aligned face.'),
      allowMultipleFaces: z.boolean().default(false).describe('When false, an image with more than one face is rejected.'),
    })
    .prefault({})
    .describe('Quality gates; a rejected face carries the reasons.'),
  match: z
    .strictObject({
      threshold: z.number().min(-1).max(1).default(0.36).describe('Cosine similarity at or above which two faces are the same person (0.36 = FAR 1e-3 on LFW, see npm run eval).'),
    })
    .prefault({})
    .describe('Face matching.'),
  liveness: z
    .strictObject({
      threshold: z.number().min(0).max(1).default(0.02).describe('Live probability at or above which a face (or, on the device, the mean over a track) counts as live; 0.02 separates live webcam frames from replays in ../shared/spoof (see npm run eval -- --spoof).'),
      cropScale: z.number().min(1).default(2.7).describe('Liveness crop side as a multiple of the face box.'),
      channelOrder: z.enum(['rgb', 'bgr']).default('bgr').describe('Channel order the liveness model expects (measured: see eval --spoof).'),
      liveClass: z.number().int().min(0).max(2).default(0).describe('Output class of the liveness model that means "live".'),
    })
    .prefault({})
    .describe('Passive liveness.'),
});

export type VisionConfig = z.output<typeof visionConfigSchema>;
export const defaultVisionConfig = (): VisionConfig => visionConfigSchema.parse({});

/** The same config with every quantizable model at one precision (eval/bench --precision, --vs). */
export function withPrecision(config: VisionConfig, p: z.output<typeof precisionSchema>): VisionConfig {
  return { ...config, precision: { detect: p, landmark: p, feature: p, liveness: p } };
}
