import { z } from 'zod';

export const galleryConfigSchema = z.strictObject({
  dim: z.number().int().min(32).multipleOf(32).default(512).describe('Embedding length; a multiple of 32 (the SIMD kernel works in 32-byte steps).'),
  kernel: z
    .strictObject({
      type: z
        .enum(['wasm-simd', 'js'])
        .default('wasm-simd')
        .describe('First-pass int8 scorer: WebAssembly SIMD across worker threads, or the plain JS loop (fallback/reference).'),
      threads: z.number().int().min(0).default(0).describe('Threads scoring a search, the calling one included; 0 = all cores.'),
    })
    .prefault({})
    .describe('First-pass scoring kernel.'),
  maxTemplates: z
    .number()
    .int()
    .min(1)
    .max(8_000_000)
    .default(2_000_000)
    .describe('Most templates the gallery may hold; sizes the shared memory reservation (address space only, not RAM).'),
  keepFloat: z
    .boolean()
    .default(true)
    .describe('Keep an fp32 copy of every template (4x the int8 size) so candidates are re-ranked exactly; off = re-rank on the int8 copy.'),
  rerankExtra: z
    .number()
    .int()
    .min(0)
    .default(8)
    .describe('People beyond top-k taken from the int8 pass and re-scored exactly, absorbing quantization error.'),
  topK: z.number().int().min(1).default(5).describe('People returned in a search result, best first.'),
  fusion: z
    .enum(['mean', 'best'])
    .default('mean')
    .describe("Several templates of one person: 'mean' searches their normalised mean (one row per person; TPIR at FPIR 1% 96.6% vs 95.5% for 'best' with 3 LFW photos), 'best' keeps every template and scores the best one."),
  secondEmbedding: z
    .enum(['auto', 'on', 'off'])
    .default('auto')
    .describe(
      "Second face embedding (MobileFaceNet, 192-d) fused near the threshold: 'auto' (default) uses it when its model file is in vision.modelDir, 'on' refuses to start without it, 'off' never loads it. With it, the threshold is derived on the scores the door votes with (fused within fusionBand of it, needs device/gallery/background-second.bin). Measured (eval --identify, one photo): TPIR at FPIR 1% 95.3% vs 93.2% for the main model alone, at 0.1% 93.0% vs 88.7%; at recognition.targetFpir 0.01 the derivation lets 0.65-1.52% of unknown visitors through at 100-491 people (cross-validated: 0.78-1.71%). Device enrolment stores a second template beside the main one, and so does gateway enrolment when the model is installed on the gateway (synced with the person); people without one are matched by the main model alone.",
    ),
  fusionBand: z
    .number()
    .min(0)
    .max(2)
    .default(0.1)
    .describe('The second embedding runs only when the best main score lies within this distance of the match threshold; the vote then uses the mean of the main and second cosines (same scale, same threshold).'),
});

export type GalleryConfig = z.output<typeof galleryConfigSchema>;
export const defaultGalleryConfig = (): GalleryConfig => galleryConfigSchema.parse({});
