/**
 * `npm run eval -- --pairs ../shared/faces/pairs_lfw.tsv [--json]`
 * `npm run eval -- --spoof ../shared/spoof/labels.tsv [--json]`
 * `npm run eval -- --identify ../shared/faces/manifest.tsv [--json]` (open-set 1:N through the gallery)
 * With --json the last line of stdout is one JSON object with the figures.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config/load.ts';
import { evalPairs } from '../core/eval/pairs.ts';
import { evalSpoof } from '../core/eval/spoof.ts';
import { evalIdentify, formatIdentifyReport } from '../device/eval/identify.ts';
import { visionConfigSchema } from '../core/vision/config.ts';
import { VisionEngine } from '../core/vision/engine.ts';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string' },
    spoof: { type: 'string' },
    identify: { type: 'string' },
    json: { type: 'boolean', default: false },
    config: { type: 'string' },
  },
});

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

async function main() {
  if (!values.pairs && !values.spoof && !values.identify) {
    console.error('usage: npm run eval -- --pairs <pairs.tsv> | --spoof <labels.tsv> | --identify <manifest.tsv> [--json] [--config vision.json]');
    process.exit(2);
  }
  const config = loadConfigFile(visionConfigSchema, values.config);
  const engine = await VisionEngine.create(config);
  let result: Record<string, unknown>;
  if (values.pairs) {
    const r = await evalPairs(engine, values.pairs);
    console.log(`pairs ${r.pairs} (images ${r.images}), no face in ${r.no_face} images, decode errors ${r.decode_errors}`);
    for (const f of r.per_fold) console.log(`  fold ${f.fold}: accuracy ${pct(f.accuracy)} at threshold ${f.threshold.toFixed(4)}`);
    console.log(`leave-one-fold-out accuracy ${pct(r.accuracy)}`);
    console.log(`TAR@FAR=1e-3 ${pct(r.tar_at_far_1e3)} (threshold ${r.threshold_far_1e3.toFixed(4)})`);
    console.log(`accuracy at configured threshold ${r.configured_threshold}: ${pct(r.accuracy_at_configured)}`);
    console.log(`recommended match.threshold ${r.recommended_threshold.toFixed(4)} (FAR 1e-3); best-accuracy threshold ${r.threshold_best_accuracy.toFixed(4)}`);
    result = { ...r };
  } else if (values.identify) {
    const r = await evalIdentify(engine, values.identify);
    console.log(formatIdentifyReport(r));
    result = { ...r };
  } else {
    const r = await evalSpoof(engine, values.spoof!);
    console.log(r.text);
    result = r.json;
  }
  await engine.close();
  if (values.json) console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(`eval: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
