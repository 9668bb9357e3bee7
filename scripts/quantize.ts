/**
 * `npm run quantize [-- options]`: writes models/<name>.int8.onnx (static int8 QDQ) for the
 * detector, landmark, embedding and liveness models, with a models/<name>.int8.json sidecar.
 *
 * Calibration inputs are real preprocessed tensors: the fp32 vision engine runs over a fixed
 * subset of the face images (sorted paths, fixed stride) and every tensor it feeds a model is
 * recorded; the liveness model also sees the spoof frames. A disjoint subset is the evaluation
 * set on which each calibration method is scored against the fp32 model; the best one is kept.
 *
 *   --models a,b          fr_detect,fr_landmark,fr_feature,fr_liveness (default: all four)
 *   --model-dir DIR       model folder (default: the config's modelDir, "models")
 *   --faces DIR           calibration images (default ../shared/faces/img)
 *   --spoof DIR           spoof frames for liveness (default ../shared/spoof; "" for none)
 *   --calibration-images N (default 200)   --evaluation-images N (default 60)
 *   --method M            recipe | auto | minmax | percentile | entropy (default recipe: replay the
 *                         calibration chosen per model in scripts/quantize/recipes.json, one pass each;
 *                         auto: search every method and graph variant, minutes per model)
 *   --save-recipe         with --method auto: write the winners to scripts/quantize/recipes.json
 *   --percentile P        for --method percentile (default 99.99)
 *   --config FILE         vision config (preprocessing settings) as for the engine
 *   --bench               also time fp32 vs int8 (2 threads) and count the optimized graph's kernels
 *   --json                last stdout line: one JSON object with every figure
 *   --if-needed           (npm install) skip when every int8 model passes its check, or when
 *                         there are no calibration images; never fails the install
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config/load.ts';
import { sharedDir } from './eval/dataset.ts';
import { writeFileAtomicSync } from '../core/fs/atomic.ts';
import { sha256, verifyModel } from '../core/models/fetch.ts';
import type { ModelName } from '../core/models/manifest.ts';
import type { CalibrationMethod, CandidateResult, FeedSample, MethodCandidate, OutputComparison, OutputMap, PrepareVariant } from './quantize/index.ts';
import { DEFAULT_CANDIDATES, DEFAULT_VARIANTS, QUANTIZER_VERSION, inputConvNodes, int8ManifestPath, int8ModelPath, quantizeModelAuto } from './quantize/index.ts';
import { loadInt8Model } from '../core/models/artifact.ts';
import { buildCalibrationSets } from './quantize/inputs.ts';
import { compareSpeed, optimizedOpCounts } from './quantize/verify.ts';
import { visionConfigSchema } from '../core/vision/config.ts';
import type { ModelKind } from '../core/vision/engine.ts';
import { softmax } from '../core/vision/liveness.ts';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'fr_detect,fr_landmark,fr_feature,fr_liveness' },
    'model-dir': { type: 'string' },
    faces: { type: 'string' },
    spoof: { type: 'string' },
    'calibration-images': { type: 'string', default: '200' },
    'evaluation-images': { type: 'string', default: '60' },
    method: { type: 'string', default: 'recipe' },
    'save-recipe': { type: 'boolean', default: false },
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
  fr_liveness: 'liveness',
};

interface Recipe {
  method: CalibrationMethod;
  percentile?: number;
  equalize: boolean;
  decomposePRelu: boolean;
  excludeNodes: string[];
  sha256: string;
}
const RECIPES = resolve(import.meta.dirname, 'quantize/recipes.json');
const readRecipes = (): Record<string, Recipe> => JSON.parse(readFileSync(RECIPES, 'utf8'));

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;
const log = (m: string) => console.error(`quantize: ${m}`);

/** For npm install: true when there is nothing to do (or nothing that can be done). */
function alreadyDone(modelDir: string, names: string[], faceDir: string): boolean {
  if (process.env.PORTIER_SKIP_QUANTIZE === '1') {
    log('PORTIER_SKIP_QUANTIZE=1: not building int8 models');
    return true;
  }
  const stale = names.filter((n) => {
    try {
      loadInt8Model(modelDir, n as ModelName);
      return false;
    } catch {
      return true;
    }
  });
  if (!stale.length) {
    log('int8 models present and verified');
    return true;
  }
  if (!existsSync(faceDir)) {
    log(`no calibration images at ${faceDir}: int8 models not built, the engine runs fp32 (run npm run quantize -- --faces <dir> to build them)`);
    return true;
  }
  log(`building int8 models for ${stale.join(', ')} from the recorded recipes (about a minute; PORTIER_SKIP_QUANTIZE=1 skips)`);
  return false;
}

async function main() {
  const config = loadConfigFile(visionConfigSchema, values.config);
  const modelDir = values['model-dir'] ?? config.modelDir;
  const names = values.models!.split(',').map((s) => s.trim()).filter(Boolean);
  if (values['if-needed'] && alreadyDone(modelDir, names, resolve(values.faces ?? join(sharedDir(), 'faces/img')))) return;
  for (const n of names) if (!KIND[n]) throw new Error(`unknown model '${n}' (expected one of ${Object.keys(KIND).join(', ')})`);
  const method = values.method!;
  if (!['recipe', 'auto', 'minmax', 'percentile', 'entropy'].includes(method)) throw new Error(`unknown --method '${method}'`);
  const recipes = readRecipes();
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
    verifyModel(name as ModelName, fp32[name], file);
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
      if (!r) throw new Error(`${name}: no recipe in ${RECIPES}; run with --method auto --save-recipe`);
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
    writeFileAtomicSync(
      int8ManifestPath(modelDir, name),
      JSON.stringify(
        {
          quantizer: `int8-qdq/${QUANTIZER_VERSION}`,
          source: `${name}.onnx`,
          source_sha256: sha256(fp32[name]),
          sha256: sha256(res.bytes),
          bytes: res.bytes.length,
          calibration: {
            method: best.method,
            percentile: best.percentile,
            equalization: best.variant.equalize !== false,
            prelu_int8: best.variant.decomposePRelu !== false,
            float_nodes: best.excludeNodes ?? [],
            samples: calibration.length,
            images: sets.files.calibration.length,
            selection: 'sorted paths, fixed stride (faces); even-indexed spoof frames for liveness',
          },
          evaluation: { samples: evaluation.length, ...accuracy },
          weights: 'int8 symmetric per-channel; biases int32; activations uint8 asymmetric',
        },
        null,
        2,
      ) + '\n',
    );
    if (method === 'recipe') {
      const same = recipes[name].sha256 === sha256(res.bytes);
      entry.reproduced = same;
      log(`${name}: ${same ? 'reproduced the recorded recipe byte for byte' : 'differs from the recorded recipe bytes (other calibration images or onnxruntime build?)'}`);
    }
    if (method === 'auto' && values['save-recipe']) {
      recipes[name] = {
        method: best.method,
        percentile: best.percentile,
        equalize: best.variant.equalize !== false,
        decomposePRelu: best.variant.decomposePRelu !== false,
        excludeNodes: [...(best.excludeNodes ?? [])],
        sha256: sha256(res.bytes),
      };
      writeFileAtomicSync(RECIPES, JSON.stringify(recipes, null, 2) + '\n');
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
