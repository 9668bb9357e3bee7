/**
 * scripts/quantize/recipes.json: per model, the calibration chosen by
 * `npm run quantize -- --method auto --save-recipe` (method, graph variant, nodes kept float),
 * the sha256 of the int8 model it gave, and the recorded calibration (record.ts) that lets
 * `npm install` rebuild those exact bytes from the fp32 model without any image. A rebuild
 * whose sha256 differs is refused, never installed.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../../core/fs/atomic.ts';
import { sha256 } from '../../core/models/fetch.ts';
import { prepareFromRecord, QUANTIZER_VERSION, type QuantizeResult } from './index.ts';
import { calibrationRecordSchema } from './record.ts';

export const RECIPES_FILE = resolve(import.meta.dirname, 'recipes.json');

export const recipeSchema = z.object({
  method: z.enum(['minmax', 'percentile', 'entropy', 'mse']).describe('calibration method'),
  percentile: z.number().optional().describe("for method 'percentile'"),
  equalize: z.boolean().describe('channel equalization before depthwise convolutions'),
  decomposePRelu: z.boolean().describe('PRelu rewritten to run in int8'),
  excludeNodes: z.array(z.string()).default([]).describe('nodes kept float'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).describe('sha256 of the int8 model this recipe gives'),
  source_sha256: z.string().regex(/^[0-9a-f]{64}$/).optional().describe('sha256 of the fp32 model it was made from'),
  quantizer: z.string().optional().describe('quantizer version that recorded it'),
  evaluation: z.record(z.string(), z.unknown()).optional().describe('accuracy against fp32 on held-out inputs when recorded'),
  calibration: calibrationRecordSchema.optional().describe('what calibration measured (rebuild without images)'),
});
export type Recipe = z.infer<typeof recipeSchema>;

export interface RecipeFile {
  /** The file's `_comment` (why each choice was made), kept on rewrite. */
  comment?: string;
  recipes: Record<string, Recipe>;
}

export function readRecipes(file = RECIPES_FILE): RecipeFile {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const recipes: Record<string, Recipe> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name.startsWith('_')) continue;
    const r = recipeSchema.safeParse(value);
    if (!r.success) throw new Error(`${file}: recipe '${name}' is invalid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    recipes[name] = r.data;
  }
  return { comment: typeof raw._comment === 'string' ? raw._comment : undefined, recipes };
}

export function writeRecipes(data: RecipeFile, file = RECIPES_FILE): void {
  // The choice first, the bulky calibration figures last, so the file reads top down.
  const order = (r: Recipe) => {
    const { calibration, ...rest } = r;
    return calibration ? { ...rest, calibration } : rest;
  };
  const out: Record<string, unknown> = data.comment ? { _comment: data.comment } : {};
  for (const [name, r] of Object.entries(data.recipes)) out[name] = order(r);
  writeFileAtomicSync(file, JSON.stringify(out, null, 2) + '\n');
}

export class RecipeReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecipeReplayError';
  }
}

/**
 * Rebuilds `name`'s int8 model from its fp32 bytes and the recipe's recorded calibration, and
 * returns it only if its sha256 is the recorded one. No model is run, no image read.
 */
export async function replayRecipe(name: string, fp32: Uint8Array, recipe: Recipe | undefined): Promise<QuantizeResult> {
  if (!recipe) throw new RecipeReplayError(`${name}: no recipe in ${RECIPES_FILE}`);
  if (!recipe.calibration) {
    throw new RecipeReplayError(`${name}: its recipe carries no recorded calibration (record one where the images are: npm run quantize -- --method recipe --save-recipe)`);
  }
  if (recipe.source_sha256 && sha256(fp32) !== recipe.source_sha256) {
    throw new RecipeReplayError(`${name}: the recipe was recorded on fp32 weights with sha256 ${recipe.source_sha256}, these are ${sha256(fp32)}`);
  }
  let res: QuantizeResult;
  try {
    // Graph options as the recording run's variant; float nodes at build time, as it did.
    const prep = await prepareFromRecord(fp32, recipe.calibration, { equalize: recipe.equalize, decomposePRelu: recipe.decomposePRelu });
    res = prep.build(recipe.method, { percentile: recipe.percentile, excludeNodes: recipe.excludeNodes });
  } catch (err) {
    throw new RecipeReplayError(`${name}: the recorded calibration does not fit this model: ${(err as Error).message}`);
  }
  const got = sha256(res.bytes);
  if (got !== recipe.sha256) {
    throw new RecipeReplayError(
      `${name}: the int8 model rebuilt from the recorded calibration has sha256 ${got}, the recipe records ${recipe.sha256} ` +
        `(quantizer changed since ${recipe.quantizer ?? 'the recording'}? now int8-qdq/${QUANTIZER_VERSION}); refusing it`,
    );
  }
  return res;
}

export interface SidecarInfo {
  method: string;
  percentile?: number;
  equalize: boolean;
  decomposePRelu: boolean;
  excludeNodes: readonly string[];
  samples: number;
  images?: number;
  evaluation?: Record<string, unknown>;
  /** How this file was made: calibrated on images here, or replayed from recipes.json. */
  built: string;
}

/** The models/<name>.int8.json text core/models/artifact.ts checks an int8 file against. */
export function int8Sidecar(name: string, fp32: Uint8Array, int8: Uint8Array, s: SidecarInfo): string {
  return (
    JSON.stringify(
      {
        quantizer: `int8-qdq/${QUANTIZER_VERSION}`,
        source: `${name}.onnx`,
        source_sha256: sha256(fp32),
        sha256: sha256(int8),
        bytes: int8.length,
        built: s.built,
        calibration: {
          method: s.method,
          percentile: s.percentile,
          equalization: s.equalize,
          prelu_int8: s.decomposePRelu,
          float_nodes: [...s.excludeNodes],
          samples: s.samples,
          images: s.images,
          selection: 'sorted paths, fixed stride (faces); even-indexed spoof frames for liveness',
        },
        evaluation: s.evaluation ?? {},
        weights: 'int8 symmetric per-channel; biases int32; activations uint8 asymmetric',
      },
      null,
      2,
    ) + '\n'
  );
}
