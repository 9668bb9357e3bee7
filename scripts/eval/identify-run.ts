/**
 * `eval --identify` end to end: manifest -> embeddings (optionally with test-time augmentation,
 * optionally cached) -> the open-set report (identify.ts) -> the derived threshold by gallery
 * size (identify-sizes.ts).
 *
 * Options: --enrol-images K, --gallery-sizes 100,250,..., --target-fpir F (default
 * recognition.targetFpir), --threshold-model max|pairs, --augment flip,crop2 (measured, not used
 * by the device), --embeddings-cache /tmp/file.json (outside the repo), --no-aliases, --second /
 * --no-second (fuse the second embedding as the device does with gallery.secondEmbedding on, or
 * not; default: as the device's default; its embeddings are cached in <cache>.second.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VisionEngine } from '../../core/vision/engine.ts';
import type { ThresholdModel } from '../../device/gallery/fpir.ts';
import { galleryConfigSchema } from '../../device/gallery/config.ts';
import { openSecondEmbedder } from '../../device/gallery/second-model.ts';
import { recognitionConfigSchema } from '../../device/recognition/config.ts';
import { embedWithSecond } from './embed-second.ts';
import { cachedVariants } from './embed-variants.ts';
import { readManifest, runIdentification, splitOpenSet, formatIdentifyReport, type IdentifyReport, type ManifestRow } from './identify.ts';
import { identifyBySize, type ConfidenceCv, type SizeFigures } from './identify-sizes.ts';
import { embedImages, type EmbeddedImage } from './pairs.ts';

export interface IdentifyOptions {
  enrolImages: number;
  gallerySizes?: number[];
  targetFpir: number;
  thresholdModel: ThresholdModel;
  augment: ('flip' | 'crop2')[];
  cacheFile?: string;
  aliases: boolean;
  /** The fixed threshold the derived one is compared with (the former recognition.matchThreshold). */
  fixedThreshold: number;
  /** Fuse the second embedding as the device does (when its model is installed). */
  second: boolean;
  /** --second given: a second model that cannot load is an error rather than a fallback to the main model. */
  secondAsked?: boolean;
}

export const identifyCliOptions = {
  'enrol-images': { type: 'string' },
  'gallery-sizes': { type: 'string' },
  'target-fpir': { type: 'string' },
  'threshold-model': { type: 'string' },
  augment: { type: 'string' },
  'embeddings-cache': { type: 'string' },
  'no-aliases': { type: 'boolean', default: false },
  second: { type: 'boolean', default: false },
  'no-second': { type: 'boolean', default: false },
} as const;

export function identifyOptions(v: Record<string, string | boolean | string[] | undefined>): IdentifyOptions {
  const num = (k: string, d: number) => (v[k] === undefined ? d : Number(v[k]));
  const rec = recognitionConfigSchema.parse({});
  const o: IdentifyOptions = {
    enrolImages: num('enrol-images', 1),
    gallerySizes: typeof v['gallery-sizes'] === 'string' ? v['gallery-sizes'].split(',').map(Number) : undefined,
    targetFpir: num('target-fpir', rec.targetFpir),
    thresholdModel: (v['threshold-model'] as ThresholdModel) ?? 'max',
    augment: typeof v.augment === 'string' ? (v.augment.split(',').filter(Boolean) as IdentifyOptions['augment']) : [],
    cacheFile: v['embeddings-cache'] as string | undefined,
    aliases: !v['no-aliases'],
    fixedThreshold: rec.matchThreshold ?? 0.45,
    // As the device: gallery.secondEmbedding's default ('auto': when the model is installed), unless asked.
    second: v.second === true ? true : v['no-second'] === true ? false : galleryConfigSchema.parse({}).secondEmbedding !== 'off',
    secondAsked: v.second === true,
  };
  if (!(Number.isInteger(o.enrolImages) && o.enrolImages >= 1)) throw new Error(`--enrol-images must be a whole number >= 1`);
  if (!(o.targetFpir > 0 && o.targetFpir < 1)) throw new Error(`--target-fpir must be within (0, 1)`);
  if (o.gallerySizes?.some((n) => !(n >= 1))) throw new Error(`--gallery-sizes takes positive numbers: 100,250,500`);
  if (!['max', 'pairs'].includes(o.thresholdModel)) throw new Error(`--threshold-model is max or pairs`);
  for (const a of o.augment) if (a !== 'flip' && a !== 'crop2') throw new Error(`--augment takes flip and/or crop2, not ${a}`);
  return o;
}

/**
 * Identity aliases: LFW files one man under two spellings (Hasan_Wirayuda is Hassan_Wirajuda,
 * the Indonesian foreign minister; his "unknown" image scores 0.72 against his enrolled one, far
 * above any real impostor). Left in, that single row decides TPIR at FPIR 0.1%.
 */
export function readAliases(): Map<string, string> {
  const file = join(import.meta.dirname, 'identity-aliases.tsv');
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  return new Map(lines.map((l) => l.split('\t') as [string, string]));
}

function sumNormalized(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts[0].length);
  for (const p of parts) for (let i = 0; i < out.length; i++) out[i] += p[i];
  let ss = 0;
  for (const x of out) ss += x * x;
  const inv = 1 / Math.sqrt(ss);
  return out.map((x) => x * inv);
}

type Embedder = Parameters<typeof embedWithSecond>[1];

async function embed(engine: VisionEngine, paths: string[], o: IdentifyOptions, second?: Embedder): Promise<Map<string, EmbeddedImage>> {
  if (!second) return embedMain(engine, paths, o);
  const secondCache = o.cacheFile && o.cacheFile.replace(/(\.json)?$/, '.second.json');
  const both = await embedWithSecond(engine, second, paths, secondCache);
  if (!o.augment.length) return both;
  const main = await embedMain(engine, paths, o);
  return new Map([...main].map(([p, v]) => [p, { ...v, second: v.embedding ? both.get(p)?.second : undefined }]));
}

async function embedMain(engine: VisionEngine, paths: string[], o: IdentifyOptions): Promise<Map<string, EmbeddedImage>> {
  if (!o.augment.length && !o.cacheFile) return embedImages(engine, paths);
  const variants = await cachedVariants(engine, paths, o.cacheFile);
  return new Map(
    [...variants].map(([p, v]): [string, EmbeddedImage] => {
      if (!v.embedding) return [p, { error: v.error }];
      const parts = [v.embedding, ...o.augment.map((a) => v[a]!)];
      return [p, { embedding: parts.length > 1 ? sumNormalized(parts) : v.embedding }];
    }),
  );
}

export type IdentifyRunReport = IdentifyReport & {
  enrol_images: number;
  target_fpir: number;
  threshold_model: ThresholdModel;
  augment: string[];
  aliases: number;
  /** Precision of the second embedding fused as on the device; null: main model only. */
  second_model: 'fp32' | 'int8' | null;
  /** Gallery size -> FPIR achieved by the threshold derived for target_fpir. */
  achieved_fpir_by_size: Record<string, number>;
  by_size: SizeFigures[];
  /** The derivation's tail confidence, cross-validated over the two halves of the visitors. */
  fpir_confidence: ConfidenceCv;
};

export async function evalIdentify(engine: VisionEngine, manifestFile: string, o: IdentifyOptions): Promise<IdentifyRunReport> {
  const aliases = o.aliases ? readAliases() : new Map<string, string>();
  const rows: ManifestRow[] = readManifest(manifestFile).map((r) => ({ ...r, identity: aliases.get(r.identity) ?? r.identity }));
  // Asked for (--second): the model must load; by default: as the device's 'auto', when installed.
  const second = o.second ? await openSecondEmbedder({ secondEmbedding: o.secondAsked ? 'on' : galleryConfigSchema.parse({}).secondEmbedding }, engine.config) : undefined;
  let embeddings: Map<string, EmbeddedImage>;
  try {
    embeddings = await embed(engine, rows.map((r) => r.path), o, second);
  } finally {
    await second?.release();
  }
  const report = await runIdentification(rows, embeddings, o.fixedThreshold, {}, o.enrolImages);
  const { people, unknown } = splitOpenSet(rows);
  const e = (p: string) => embeddings.get(p)?.embedding;
  const s = (p: string) => embeddings.get(p)?.second;
  const input = {
    people: [...people]
      .filter(([, paths]) => paths.length > o.enrolImages)
      .map(([identity, paths]) => {
        const enrol = paths.filter((p) => e(p)).slice(0, o.enrolImages);
        const probes = paths.slice(o.enrolImages).filter((p) => !enrol.includes(p));
        return { identity, enrol: enrol.map((p) => e(p)!), probes: probes.map(e), enrolSecond: enrol.map(s), probesSecond: probes.map(s) };
      })
      .filter((p) => p.enrol.length),
    unknown: unknown.map((u) => ({ identity: u.identity, embedding: e(u.path), second: s(u.path) })),
  };
  const sizes = o.gallerySizes ?? [input.people.length];
  const { bySize, confidence } = await identifyBySize(input, sizes, o.targetFpir, o.fixedThreshold, o.thresholdModel);
  return {
    ...report,
    enrol_images: o.enrolImages,
    target_fpir: o.targetFpir,
    threshold_model: o.thresholdModel,
    augment: o.augment,
    aliases: aliases.size,
    second_model: second?.precision ?? null,
    achieved_fpir_by_size: Object.fromEntries(bySize.map((s) => [String(s.people), s.achieved_fpir])),
    by_size: bySize,
    fpir_confidence: confidence,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function formatIdentifyRun(r: IdentifyRunReport): string {
  const lines = [`enrolment images per person ${r.enrol_images}${r.second_model ? `, second embedding (${r.second_model}) fused within the band` : ', main model only'}${r.augment.length ? `, embeddings averaged with ${r.augment.join('+')}` : ''}${r.aliases ? `, ${r.aliases} identity alias(es) applied` : ''}`, formatIdentifyReport(r)];
  lines.push(`derived threshold (${r.threshold_model} model) for target FPIR ${r.target_fpir}, background = the other half of the single-image people (swapped, pooled):`);
  for (const s of r.by_size) {
    lines.push(
      `  ${String(s.people).padStart(5)} people: threshold ${s.threshold.toFixed(4)} -> FPIR ${pct(s.achieved_fpir)} (expected ${pct(s.expected_fpir)}), TPIR ${pct(s.tpir)}; fixed ${s.fixed_threshold}: FPIR ${pct(s.fixed_achieved_fpir)}, TPIR ${pct(s.fixed_tpir)} (${s.unknown_probes} unknown probes)`,
    );
  }
  const c = r.fpir_confidence;
  const sizes = (m: Record<string, number>) => Object.entries(m).map(([n, f]) => `${n}: ${pct(f)}`).join(', ');
  lines.push(`tail confidence: shipped ${c.shipped}, chosen on all visitors ${c.chosen_on_all}; chosen on the other half of the visitors: ${c.chosen_by_fold.join(' and ')}; cross-validated FPIR by size ${sizes(c.cv_achieved_fpir_by_size)}`);
  for (const [conf, m] of Object.entries(c.achieved_by_candidate)) lines.push(`  confidence ${conf}: ${sizes(m)}`);
  return lines.join('\n');
}
