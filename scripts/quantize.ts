/**
 * `npm run quantize [-- options]`: writes models/<name>.int8.onnx (static int8 QDQ) for the
 * detector, landmark, embedding and liveness models, with a models/<name>.int8.json sidecar.
 *
 * Two ways to get there:
 * - replay (default, and what npm install runs): rebuild each model from its fp32 file and the
 *   calibration recorded in scripts/quantize/recipes.json (activation ranges, equalization and
 *   bias-correction figures). No image, no model run, a few seconds; the result must have the
 *   recipe's sha256 or it is refused and the engine keeps running that model in fp32.
 * - calibration on images (recipe, auto, minmax, percentile, entropy): the fp32 vision engine
 *   runs over a fixed subset of the face images (sorted paths, fixed stride) and every tensor it
 *   feeds a model is recorded; the liveness model also sees the spoof frames. A disjoint subset
 *   is the evaluation set on which each calibration method is scored against the fp32 model.
 *
 *   --models a,b          fr_detect,fr_landmark,fr_feature,fr_liveness,mobilefacenet (default: all;
 *                         mobilefacenet, the optional second embedding, only when its fp32 file is there)
 *   --model-dir DIR       model folder (default: the config's modelDir, "models")
 *   --method M            replay | recipe | auto | minmax | percentile | entropy (default replay;
 *                         recipe: calibrate on the images with the method and variant each recipe
 *                         chose; auto: search every method and graph variant, minutes per model)
 *   --save-recipe         with --method auto or recipe: record the result (choice, sha256 and the
 *                         calibration figures) in the recipes file
 *   --recipes FILE        recipes file (default scripts/quantize/recipes.json)
 *   --faces DIR           calibration images (default ../shared/faces/img, or $PORTIER_SHARED/faces/img)
 *   --spoof DIR           spoof frames for liveness (default ../shared/spoof; "" for none)
 *   --calibration-images N (default 200)   --evaluation-images N (default 60)
 *   --percentile P        for --method percentile (default 99.99)
 *   --config FILE         vision config (preprocessing settings) as for the engine
 *   --bench               also time fp32 vs int8 (2 threads) and count the optimized graph's kernels
 *   --json                last stdout line: one JSON object with every figure
 *   --if-needed           (npm install) replay only the models whose int8 file is missing, fails
 *                         its check or is not the recorded one; never fails the install
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config/load.ts';
import { sharedDir } from './eval/dataset.ts';
import { writeFileAtomicSync } from '../core/fs/atomic.ts';
import { sha256, verifyModel } from '../core/models/fetch.ts';
import { RECIPES_FILE, int8Sidecar, readRecipes, writeRecipes } from './quantize/recipes.ts';
import { replayModels, staleModels } from './quantize/replay.ts';
import { DERIVED_MODEL_SHA256, type AnyModelName } from '../core/models/manifest.ts';
import type { CalibrationMethod, CandidateResult, FeedSample, MethodCandidate, OutputComparison, OutputMap, PrepareVariant } from './quantize/index.ts';
import { DEFAULT_CANDIDATES, DEFAULT_VARIANTS, QUANTIZER_VERSION, inputConvNodes, int8ManifestPath, int8ModelPath, quantizeModelAuto } from './quantize/index.ts';
import { buildCalibrationSets } from './quantize/inputs.ts';
import { compareSpeed, optimizedOpCounts } from './quantize/verify.ts';
import { visionConfigSchema } from '../core/vision/config.ts';
import type { ModelKind } from '../core/vision/engine.ts';
import { softmax } from '../core/vision/liveness.ts';

const { values } = parseArgs({
  options: {
    models: { type: 'string' },
    'model-dir': { type: 'string' },
    faces: { type: 'string' },
    spoof: { type: 'string' },
    'calibration-images': { type: 'string', default: '200' },
    'evaluation-images': { type: 'string', default: '60' },
    method: { type: 'string', default: 'replay' },
    'save-recipe': { type: 'boolean', default: false },
    recipes: { type: 'string' },
    percentile: { type: 'string', default: '99.99' },
    config: { type: 'string' },
    bench: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'if-needed': { type: 'boolean', default: false },
  },
});

const KIND: Record<string, ModelKind> = {
  fr_detect: 'detect',
  fr_landmark: 'landmark',
  fr_feature: 'feature',
  // The second embedding takes the very tensor fr_feature gets (its graph input is named alike).
  mobilefacenet: 'feature',
  fr_liveness: 'liveness',
};

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;
const log = (m: string) => console.error(`quantize: ${m}`);
async function main() {
  const config = loadConfigFile(visionConfigSchema, values.config);
  const modelDir = values['model-dir'] ?? config.modelDir;
  let names = (values.models ?? Object.keys(KIND).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  if (!values.models) {
    // A converted model that could not be made at install is optional: nothing to quantize.
    names = names.filter((n) => !(n in DERIVED_MODEL_SHA256) || existsSync(join(modelDir, `${n}.onnx`)));
  }
  for (const n of names) if (!KIND[n]) throw new Error(`unknown model '${n}' (expected one of ${Object.keys(KIND).join(', ')})`);
  const method = values['if-needed'] ? 'replay' : values.method!;
  if (!['replay', 'recipe', 'auto', 'minmax', 'percentile', 'entropy'].includes(method)) throw new Error(`unknown --method '${method}'`);
  if (values['save-recipe'] && method !== 'auto' && method !== 'recipe') throw new Error('--save-recipe needs --method auto or --method recipe');
  const recipesFile = values.recipes ? resolve(values.recipes) : RECIPES_FILE;
  const file = readRecipes(recipesFile);
  const recipes = file.recipes;
  if (values['if-needed']) {
    if (process.env.PORTIER_SKIP_QUANTIZE === '1') return log('PORTIER_SKIP_QUANTIZE=1: not building int8 models');
    names = staleModels(modelDir, names, recipes, log);
    if (!names.length) return log('int8 models present, verified and as recorded');
    log(`building int8 models for ${names.join(', ')} from the recorded calibration (PORTIER_SKIP_QUANTIZE=1 skips)`);
  }
  const percentile = Number(values.percentile);
  const shared = sharedDir();
  const faceDir = resolve(values.faces ?? join(shared, 'faces/img'));
  const spoofDir = values.spoof === '' ? undefined : resolve(values.spoof ?? join(shared, 'spoof'));
  const nCal = Number(values['calibration-images']);
  const nEval = Number(values['evaluation-images']);

  // Check the float models before spending minutes on calibration.
  const fp32: Record<string, Uint8Array> = {};
  for (const name of names) {
    const file = join(modelDir, `${name}.onnx`);
    fp32[name] = readFileSync(file);
    verifyModel(name as AnyModelName, fp32[name], file);
  }
  if (method === 'replay') {
    if (!(await replayModels(modelDir, names, recipes, fp32, log))) process.exitCode = values['if-needed'] ? 0 : 1;
    return;
  }

  log(`capturing model inputs: ${nCal} calibration and ${nEval} evaluation images from ${faceDir}${spoofDir ? ` + ${spoofDir}` : ''}`);
  const sets = await buildCalibrationSets({ ...config, modelDir }, { faceDir, spoofDir, calibrationImages: nCal, evaluationImages: nEval }, log);

  const liveClass = config.liveness.liveClass;
  const summary: Record<string, unknown>[] = [];
  for (const name of names) {
    const kind = KIND[name];
    const calibration: FeedSample[] = sets.calibration[kind];
    const evaluation: FeedSample[] = sets.evaluation[kind];
    if (!calibration.length || !evaluation.length) throw new Error(`${name}: no ${kind} inputs captured (no faces found?)`);
    // What "closest to fp32" means for each model.
    let score = (c: OutputComparison) => c.relError;
    let metric: ((f: OutputMap, q: OutputMap) => number) | undefined;
    let metricName: string | undefined;
    if (kind === 'feature') score = (c) => 1 - c.cosine;
    if (kind === 'liveness') {
      metricName = 'mean_abs_live_prob_diff';
      metric = (f, q) => Math.abs(softmax(f.output)[liveClass] - softmax(q.output)[liveClass]);
      score = (c) => c.custom!;
    }
    let candidates: MethodCandidate[];
    let variants: readonly PrepareVariant[];
    if (method === 'auto') {
      // Every method, and every method with the first (raw-pixel) convolution kept float; with
      // and without channel equalization; PRelu in int8 or float (see DEFAULT_VARIANTS).
      const first = inputConvNodes(fp32[name]);
      candidates = [...DEFAULT_CANDIDATES, ...DEFAULT_CANDIDATES.map((c) => ({ ...c, excludeNodes: first }))];
      variants = DEFAULT_VARIANTS;
    } else if (method === 'recipe') {
      const r = recipes[name];
      if (!r) throw new Error(`${name}: no recipe in ${recipesFile}; run with --method auto --save-recipe`);
      candidates = [{ method: r.method, percentile: r.percentile, excludeNodes: r.excludeNodes }];
      variants = [{ equalize: r.equalize, decomposePRelu: r.decomposePRelu }];
    } else {
      candidates = [{ method: method as CalibrationMethod, percentile: method === 'percentile' ? percentile : undefined }];
      variants = [{}];
    }
    const n = candidates.length * variants.length;
    log(`${name}: calibrating on ${calibration.length} inputs, scoring ${n} candidate(s) on ${evaluation.length}`);
    const t0 = performance.now();
    const res = await quantizeModelAuto(fp32[name], calibration, evaluation, { candidates, variants, score, metric });
    const secs = round((performance.now() - t0) / 1000, 1);
    const best = res.chosen;
    const out = int8ModelPath(modelDir, name);
    writeFileAtomicSync(out, res.bytes);
    const ratio = round(fp32[name].length / res.bytes.length, 2);
    const describe = (c: MethodCandidate & { variant?: PrepareVariant }) =>
      `${c.method}${c.percentile !== undefined ? `:${c.percentile}` : ''}` +
      `${c.variant?.equalize === false ? ', no equalization' : ''}` +
      `${c.variant?.decomposePRelu === false ? ', PRelu float' : ''}` +
      `${c.excludeNodes?.length ? `, float: ${c.excludeNodes.join(' ')}` : ''}`;
    const accuracy = {
      cosine: round(best.comparison.cosine, 5),
      rel_error: round(best.comparison.relError),
      ...(metricName ? { [metricName]: round(best.comparison.custom!, 5) } : {}),
    };
    const entry: Record<string, unknown> = {
      model: name,
      file: out,
      fp32_bytes: fp32[name].length,
      int8_bytes: res.bytes.length,
      size_ratio: ratio,
      calibration: describe(best),
      accuracy,
      candidates: res.candidates.map((c: CandidateResult) => ({
        calibration: describe(c),
        score: round(c.score, 5),
        cosine: round(c.comparison.cosine, 5),
        rel_error: round(c.comparison.relError),
        ...(metricName ? { [metricName]: round(c.comparison.custom!, 5) } : {}),
      })),
      quantized_nodes: res.report.quantizedNodes,
      opset: `${res.report.opset.from} -> ${res.report.opset.to}`,
      opset_rewrites: res.report.opset.rewritten.length,
      seconds: secs,
    };
    const chosen = {
      method: best.method,
      percentile: best.percentile,
      equalize: best.variant.equalize !== false,
      decomposePRelu: best.variant.decomposePRelu !== false,
      excludeNodes: [...(best.excludeNodes ?? [])],
    };
    const evaluationFigures = { samples: evaluation.length, ...accuracy };
    const images = sets.files.calibration.length;
    writeFileAtomicSync(
      int8ManifestPath(modelDir, name),
      int8Sidecar(name, fp32[name], res.bytes, { ...chosen, samples: calibration.length, images, evaluation: evaluationFigures, built: `calibrated on images (--method ${method})` }),
    );
    const sha = sha256(res.bytes);
    if (method === 'recipe') {
      const same = recipes[name].sha256 === sha;
      entry.reproduced = same;
      log(`${name}: ${same ? 'reproduced the recorded recipe byte for byte' : 'differs from the recorded recipe bytes (other calibration images or onnxruntime build?)'}`);
    }
    if (values['save-recipe']) {
      recipes[name] = {
        ...chosen,
        sha256: sha,
        source_sha256: sha256(fp32[name]),
        quantizer: `int8-qdq/${QUANTIZER_VERSION}`,
        evaluation: evaluationFigures,
        calibration: { ...res.calibration, images },
      };
      writeRecipes(file, recipesFile);
      log(`${name}: recorded in ${recipesFile} (sha256 ${sha.slice(0, 16)}..., ${Object.keys(res.calibration.ranges).length} activation ranges)`);
    }
    log(`${name}: ${ratio}x smaller (${fp32[name].length} -> ${res.bytes.length} bytes), calibration ${describe(best)}, ${JSON.stringify(accuracy)} [${secs}s]`);
    if (values.bench) {
      const ops = await optimizedOpCounts(res.bytes);
      const speed = await compareSpeed(fp32[name], res.bytes, evaluation.slice(0, 10));
      entry.optimized_ops = ops;
      entry.speed = {
        fp32_ms: round(speed.fp32.minMs, 2),
        int8_ms: round(speed.int8.minMs, 2),
        speedup: round(speed.speedup, 2),
        fp32_median_ms: round(speed.fp32.medianMs, 2),
        int8_median_ms: round(speed.int8.medianMs, 2),
        speedup_median: round(speed.speedupMedian, 2),
        cpu_1thread_fp32_ms: round(speed.cpu.fp32Ms, 2),
        cpu_1thread_int8_ms: round(speed.cpu.int8Ms, 2),
        cpu_speedup: round(speed.cpu.speedup, 2),
      };
      log(`${name}: optimized graph ${JSON.stringify(ops)}`);
      log(
        `${name}: 2 threads: fp32 ${round(speed.fp32.minMs, 2)} ms, int8 ${round(speed.int8.minMs, 2)} ms (fastest rounds) = ` +
          `${round(speed.speedup, 2)}x, medians ${round(speed.speedupMedian, 2)}x; CPU time on 1 thread: fp32 ` +
          `${round(speed.cpu.fp32Ms, 2)} ms, int8 ${round(speed.cpu.int8Ms, 2)} ms = ${round(speed.cpu.speedup, 2)}x`,
      );
    }
    summary.push(entry);
  }

  console.log('model          ratio  calibration                       accuracy');
  for (const s of summary) {
    console.log(`${String(s.model).padEnd(14)} ${String(s.size_ratio).padStart(5)}x  ${String(s.calibration).padEnd(32)}  ${JSON.stringify(s.accuracy)}`);
  }
  if (values.bench) {
    const sum = (k: string) => summary.reduce((a, s) => a + (s.speed as Record<string, number>)[k], 0);
    console.log('model          fp32 ms  int8 ms  speedup  (2 threads, fastest rounds)   CPU ms fp32 / int8 (1 thread)');
    for (const s of summary) {
      const sp = s.speed as Record<string, number>;
      console.log(
        `${String(s.model).padEnd(14)} ${String(sp.fp32_ms).padStart(7)}  ${String(sp.int8_ms).padStart(7)}  ${String(sp.speedup).padStart(6)}x` +
          `${' '.repeat(32)}${sp.cpu_1thread_fp32_ms} / ${sp.cpu_1thread_int8_ms} = ${sp.cpu_speedup}x`,
      );
    }
    const f = sum('fp32_ms');
    const q = sum('int8_ms');
    const cf = sum('cpu_1thread_fp32_ms');
    const cq = sum('cpu_1thread_int8_ms');
    console.log(
      `sum over the models (one face through every model): fp32 ${round(f, 2)} ms, int8 ${round(q, 2)} ms = ${round(f / q, 2)}x; ` +
        `CPU ${round(cf, 2)} / ${round(cq, 2)} ms = ${round(cf / cq, 2)}x`,
    );
  }
  if (values.json) console.log(JSON.stringify({ models: summary }));
}

main().catch((err) => {
  console.error(`quantize: ${(err as Error).stack ?? err}`);
  // A failed int8 build must not fail npm install: the engine falls back to fp32 and says why.
  process.exit(values['if-needed'] ? 0 : 1);
});
