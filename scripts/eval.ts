/**
 * `npm run eval -- --pairs ../shared/faces/pairs_lfw.tsv [--json]`
 * `npm run eval -- --spoof ../shared/spoof/labels.tsv [--json]`
 * `npm run eval -- --identify ../shared/faces/manifest.tsv [--enrol-images K] [--gallery-sizes 100,250] [--target-fpir F] [--json]`
 *   (open-set 1:N through the gallery; options in eval/identify-run.ts)
 * `npm run eval -- --spoof-video ../shared/video/videos.tsv [--spoof-video ...] [--loso] [--fit out.json] [--json]`
 *   (liveness per approach through the recognition loop; --attempts/--save-attempts reuse a run)
 * `--precision fp32|int8` picks the models; `--vs` (with --pairs) runs fp32 and int8 in one process.
 * With --json the last line of stdout is one JSON object with the figures.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config/load.ts';
import { evalPairs, evalPairsVs } from './eval/pairs.ts';
import { evalSpoof } from './eval/spoof.ts';
import { evalIdentify, formatIdentifyRun, identifyCliOptions, identifyOptions } from './eval/identify-run.ts';
import { visionConfigSchema, withPrecision } from '../core/vision/config.ts';
import { VisionEngine } from '../core/vision/engine.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { deviceConfigSchema } from '../device/config.ts';
import type { LivenessConfig } from '../device/liveness/config.ts';
import { loadCalibration } from '../device/liveness/fusion.ts';
import { fitAll, playLists, report, writeCalibration, type ClipRecord } from './eval/spoof-video.ts';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string' },
    spoof: { type: 'string' },
    identify: { type: 'string' },
    ...identifyCliOptions,
    'spoof-video': { type: 'string', multiple: true },
    loso: { type: 'boolean', default: false },
    fit: { type: 'string' },
    level: { type: 'string' },
    'attempt-seconds': { type: 'string', default: '1.6' },
    'attempt-stride': { type: 'string', default: '0.5' },
    'save-attempts': { type: 'string' },
    attempts: { type: 'string' },
    json: { type: 'boolean', default: false },
    config: { type: 'string' },
    precision: { type: 'string' },
    vs: { type: 'boolean', default: false },
  },
});

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

async function main() {
  const videoLists = values['spoof-video'] ?? [];
  if (!values.pairs && !values.spoof && !values.identify && !videoLists.length && !values.attempts) {
    console.error('usage: npm run eval -- --pairs <pairs.tsv> | --spoof <labels.tsv> | --identify <manifest.tsv> | --spoof-video <videos.tsv> [--json] [--config vision.json]');
    process.exit(2);
  }
  if (videoLists.length || values.attempts) return spoofVideo(videoLists);
  let config = loadConfigFile(visionConfigSchema, values.config);
  if (values.precision) {
    if (values.precision !== 'fp32' && values.precision !== 'int8') throw new Error(`--precision must be fp32 or int8, not ${values.precision}`);
    config = withPrecision(config, values.precision);
  }
  if (values.vs) {
    if (!values.pairs) throw new Error('--vs compares fp32 and int8 on a pairs file: add --pairs <pairs.tsv>');
    const [fp32, int8] = await Promise.all([VisionEngine.create(withPrecision(config, 'fp32')), VisionEngine.create(withPrecision(config, 'int8'))]);
    if (Object.values(int8.precision).some((p) => p !== 'int8')) throw new Error('int8 models missing: run npm run quantize first');
    const r = await evalPairsVs(fp32, int8, values.pairs);
    console.log(`pairs ${r.pairs}`);
    console.log(`accuracy      fp32 ${pct(r.fp32_accuracy)}   int8 ${pct(r.int8_accuracy)}   (difference ${((r.int8_accuracy - r.fp32_accuracy) * 100).toFixed(2)} points)`);
    console.log(`TAR@FAR=1e-3  fp32 ${pct(r.fp32_tar_at_far_1e3)}   int8 ${pct(r.int8_tar_at_far_1e3)}`);
    console.log(`no face       fp32 ${r.fp32_no_face}   int8 ${r.int8_no_face}`);
    console.log(`fp32 vs int8 embedding cosine: mean ${r.mean_cosine.toFixed(4)}, min ${r.min_cosine.toFixed(4)}`);
    await Promise.all([fp32.close(), int8.close()]);
    if (values.json) console.log(JSON.stringify(r));
    return;
  }
  const engine = await VisionEngine.create(config);
  let result: Record<string, unknown>;
  if (values.pairs) {
    const r = await evalPairs(engine, values.pairs);
    console.log(`pairs ${r.pairs} (images ${r.images}), no face in ${r.no_face} images, decode errors ${r.decode_errors}`);
    for (const f of r.per_fold) console.log(`  fold ${f.fold}: accuracy ${pct(f.accuracy)} at threshold ${f.threshold.toFixed(4)}`);
    // With one fold in the file a seeded 10-fold split stands in (scripts/eval/folds.ts): say so.
    console.log(`${r.protocol} accuracy ${pct(r.accuracy)} (${r.folds} folds)`);
    console.log(`TAR@FAR=1e-3 ${pct(r.tar_at_far_1e3)} (threshold ${r.threshold_far_1e3.toFixed(4)})`);
    console.log(`accuracy at configured threshold ${r.configured_threshold}: ${pct(r.accuracy_at_configured)}`);
    console.log(`recommended match.threshold ${r.recommended_threshold.toFixed(4)} (FAR 1e-3); best-accuracy threshold ${r.threshold_best_accuracy.toFixed(4)}`);
    result = { ...r };
  } else if (values.identify) {
    const r = await evalIdentify(engine, values.identify, identifyOptions(values));
    console.log(formatIdentifyRun(r));
    result = { ...r };
  } else {
    const r = await evalSpoof(engine, values.spoof!);
    console.log(r.text);
    result = r.json;
  }
  await engine.close();
  if (values.json) console.log(JSON.stringify(result));
}

/** Liveness per approach; the device config file (--config) supplies the liveness section when given. */
async function spoofVideo(lists: string[]) {
  const device = loadConfigFile(deviceConfigSchema, values.config);
  const liveness = { ...device.liveness, level: (values.level ?? 'standard') as LivenessConfig['level'] };
  if (liveness.level === 'off') throw new Error('--level off has nothing to measure');
  const calibration = loadCalibration(liveness.calibration);
  const bar = liveness.level === 'strict' ? liveness.levels.strict : liveness.levels.standard;
  let clips: ClipRecord[];
  if (values.attempts) clips = JSON.parse(readFileSync(values.attempts, 'utf8')) as ClipRecord[];
  else {
    const engine = await VisionEngine.create(device.vision);
    clips = await playLists(engine, lists, { liveness, calibration, attemptSeconds: Number(values['attempt-seconds']), strideSeconds: Number(values['attempt-stride']), log: (l) => console.error(l) });
    await engine.close();
  }
  if (values['save-attempts']) writeFileSync(values['save-attempts'], JSON.stringify(clips));
  const r = report(clips, calibration, bar, values.loso);
  console.log(r.text);
  if (values.fit) {
    const cal = fitAll(clips, lists, bar);
    writeCalibration(values.fit, cal);
    console.log(`weights fitted on every approach written to ${values.fit}`);
  }
  if (values.json) console.log(JSON.stringify(r.json));
}

main().catch((err) => {
  console.error(`eval: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
