/**
 * `npm run bench [-- --json] [--limit N]`: per-stage p50/p95 latency over LFW images from
 * ../shared (250x250, one face each), faces per second, peak RSS. With --json the last line of
 * stdout is one JSON object.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config/load.ts';
import { readTsv, sharedDir } from '../core/eval/dataset.ts';
import { benchPipeline } from '../core/eval/pipeline-bench.ts';
import { round2 } from '../core/eval/stats.ts';
import { visionConfigSchema } from '../core/vision/config.ts';
import { VisionEngine } from '../core/vision/engine.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    limit: { type: 'string', default: '300' },
    config: { type: 'string' },
    shared: { type: 'string' },
  },
});

async function main() {
  const shared = values.shared ?? sharedDir();
  const manifest = readTsv(join(shared, 'faces/manifest.tsv'));
  // LFW frames only (250x250); a fixed stride over the sorted list keeps the sample deterministic.
  const lfw = manifest.filter((r) => /lfw/i.test(r.source_path)).map((r) => join(shared, 'faces', r.path)).sort();
  const limit = Math.min(Number(values.limit), lfw.length);
  const stride = Math.max(1, Math.floor(lfw.length / limit));
  const files = lfw.filter((_, i) => i % stride === 0).slice(0, limit);
  const config = loadConfigFile(visionConfigSchema, values.config);
  const engine = await VisionEngine.create(config);
  const r = await benchPipeline(engine, files);
  await engine.close();
  const rssMb = round2(process.resourceUsage().maxRSS / 1024);
  console.log(`pipeline over ${r.faces} one-face images of ${r.images} (providers: ${JSON.stringify(engine.providers())})`);
  console.log('stage        p50 ms   p95 ms');
  for (const [s, v] of Object.entries(r.stages)) console.log(`${s.padEnd(12)} ${String(v.p50_ms).padStart(6)}   ${String(v.p95_ms).padStart(6)}`);
  console.log(`${'pipeline'.padEnd(12)} ${String(r.pipeline_p50_ms).padStart(6)}   ${String(r.pipeline_p95_ms).padStart(6)}`);
  console.log(`faces per second ${r.faces_per_s}, peak RSS ${rssMb} MB`);
  if (values.json) {
    const stageP50 = Object.fromEntries(Object.entries(r.stages).map(([s, v]) => [`${s}_p50_ms`, v.p50_ms]));
    console.log(JSON.stringify({ pipeline_p50_ms: r.pipeline_p50_ms, pipeline_p95_ms: r.pipeline_p95_ms, faces_per_s: r.faces_per_s, rss_mb: rssMb, ...stageP50, stages: r.stages, faces: r.faces }));
  }
}

main().catch((err) => {
  console.error(`bench: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
