/**
 * `npm run bench [-- --json] [--limit N] [--sizes 1000,10000,100000,1000000] [--skip device,pad,gallery,gateway,outbox]`:
 * per-stage p50/p95 latency over LFW images from ../shared (250x250, one face each), faces per
 * second, peak RSS of the pipeline; frame-to-relay latency of the whole device on the simulated
 * camera; the per-frame cost of each liveness cue; 1:N search time by gallery size and RSS with 100k templates enrolled; the audit outbox
 * with 1,000,000 events queued; the gateway with 200 simulated devices on loopback MQTT (audit
 * ingest, enrolment fan-out) and its enrolment time per photo (min(100, --limit) photos).
 * `--precision fp32|int8` picks the models; `--vs` times fp32 and int8 pipelines in one process.
 * With --json the last line of stdout is one JSON object; its `providers` names the execution
 * provider each model ran on (per precision with --vs).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config/load.ts';
import { setLogLevel } from '../core/log/logger.ts';
import { readTsv, sharedDir } from './eval/dataset.ts';
import { benchPipeline, benchPipelineVs } from './bench/pipeline-bench.ts';
import { round2 } from './eval/stats.ts';
import { visionConfigSchema, withPrecision } from '../core/vision/config.ts';
import { VisionEngine } from '../core/vision/engine.ts';
import { benchFrameToRelay } from './bench/frame-to-relay.ts';
import { benchPad } from './bench/pad-bench.ts';
import { benchOutbox } from './bench/outbox.ts';
import { benchGallery } from './bench-gallery.ts';
import { benchGatewaySync } from './bench/gateway-sync.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    limit: { type: 'string', default: '300' },
    config: { type: 'string' },
    shared: { type: 'string' },
    sizes: { type: 'string', default: '1000,10000,100000,1000000' },
    skip: { type: 'string', default: '' },
    precision: { type: 'string' },
    vs: { type: 'boolean', default: false },
  },
});

async function main() {
  // Door and gallery chatter would bury the figures.
  if (!process.env.PORTIER_LOG_LEVEL) setLogLevel('warn');
  const shared = values.shared ?? sharedDir();
  const manifest = readTsv(join(shared, 'faces/manifest.tsv'));
  // LFW frames only (250x250); a fixed stride over the sorted list keeps the sample deterministic.
  const lfw = manifest.filter((r) => /lfw/i.test(r.source_path)).map((r) => join(shared, 'faces', r.path)).sort();
  const limit = Math.min(Number(values.limit), lfw.length);
  const stride = Math.max(1, Math.floor(lfw.length / limit));
  const files = lfw.filter((_, i) => i % stride === 0).slice(0, limit);
  let config = loadConfigFile(visionConfigSchema, values.config);
  if (values.precision) {
    if (values.precision !== 'fp32' && values.precision !== 'int8') throw new Error(`--precision must be fp32 or int8, not ${values.precision}`);
    config = withPrecision(config, values.precision);
  }
  if (values.vs) {
    const [fp32, int8] = await Promise.all([VisionEngine.create(withPrecision(config, 'fp32')), VisionEngine.create(withPrecision(config, 'int8'))]);
    if (Object.values(int8.precision).some((p) => p !== 'int8')) throw new Error('int8 models missing: run npm run quantize first');
    const v = await benchPipelineVs(fp32, int8, files);
    await Promise.all([fp32.close(), int8.close()]);
    console.log(`whole pipeline over ${v.faces} one-face images, fp32 and int8 alternating in one process`);
    console.log(`fp32 p50 ${v.fp32_p50_ms} ms (p95 ${v.fp32_p95_ms}), int8 p50 ${v.int8_p50_ms} ms (p95 ${v.int8_p95_ms})`);
    console.log(`speedup ${v.speedup}x (median of per-image ratios ${v.speedup_paired}x)`);
    // Where each model ran: a TensorRT preference that fell back to cpu must show in the figures.
    if (values.json) console.log(JSON.stringify({ ...v, providers: { fp32: fp32.providers(), int8: int8.providers() } }));
    return;
  }
  const engine = await VisionEngine.create(config);
  const providers = engine.providers();
  console.log(`models: ${JSON.stringify(engine.precision)}, providers: ${JSON.stringify(providers)}`);
  const r = await benchPipeline(engine, files);
  const rssMb = round2(process.resourceUsage().maxRSS / 1024);
  const skip = new Set(values.skip!.split(',').filter(Boolean));
  const device = skip.has('device') ? undefined : await benchFrameToRelay(engine);
  const pad = skip.has('pad') ? undefined : await benchPad(engine);
  console.log(`pipeline over ${r.faces} one-face images of ${r.images} (providers: ${JSON.stringify(providers)})`);
  console.log('stage        p50 ms   p95 ms');
  for (const [s, v] of Object.entries(r.stages)) console.log(`${s.padEnd(12)} ${String(v.p50_ms).padStart(6)}   ${String(v.p95_ms).padStart(6)}`);
  console.log(`${'pipeline'.padEnd(12)} ${String(r.pipeline_p50_ms).padStart(6)}   ${String(r.pipeline_p95_ms).padStart(6)}`);
  console.log(`faces per second ${r.faces_per_s}, peak RSS ${rssMb} MB`);
  if (pad) {
    console.log(`liveness cues per frame, p50 ms (crafted 640x480 approaches, ${pad.pad_frames} frames): ${Object.entries(pad.pad_cue_ms).map(([c, ms]) => `${c} ${ms}`).join(', ')}; grey conversion ${pad.pad_grey_ms}; eye model ${pad.pad_eye_model_ms} (blink only)`);
    console.log(`liveness adds ${pad.pad_total_p50_ms} ms per frame with the shipped weights (${pad.pad_cues_used.join(', ')}): pipeline with liveness cues p50 ${round2(r.pipeline_p50_ms + pad.pad_total_p50_ms)} ms`);
  }
  if (device) console.log(`frame to relay (simulated camera, ${device.grants} grants): p50 ${device.frame_to_relay_p50_ms} ms, p95 ${device.frame_to_relay_p95_ms} ms`);
  let gallery: Record<string, unknown> = {};
  if (!skip.has('gallery')) {
    const sizes = values.sizes!.split(',').map(Number).filter((n) => n > 0);
    const g = await benchGallery(sizes);
    const bySize = (suffix: string) => Object.fromEntries(sizes.map((n) => [String(n), g.search_ms[`${n}_${suffix}`]]));
    gallery = { search_ms: bySize('p50'), search_p95_ms: bySize('p95'), rss_100k_mb: g.rss_100k_mb };
    console.log('1:N search   p50 ms   p95 ms');
    for (const n of sizes) console.log(`${String(n).padEnd(12)} ${String(g.search_ms[`${n}_p50`]).padStart(6)}   ${String(g.search_ms[`${n}_p95`]).padStart(6)}`);
    console.log(`RSS with 100k templates enrolled (models loaded too): ${g.rss_100k_mb} MB`);
  }
  let gateway: Record<string, unknown> = {};
  if (!skip.has('gateway')) {
    // Before engine.close(): the gateway enrols with the same engine the pipeline used.
    const g = await benchGatewaySync(engine, { photos: Math.min(100, limit), shared });
    gateway = { ...g };
    console.log(`gateway enrolment per photo (${g.enrol_photos} photos, ${g.enrol_accepted} accepted): p50 ${g.enrol_photo_p50_ms} ms, p95 ${g.enrol_photo_p95_ms} ms; accepted only p50 ${g.enrol_photo_accepted_p50_ms} ms`);
    console.log(`gateway audit ingest from ${g.devices} devices: ${g.audit_events} events acked in ${g.audit_s} s = ${g.audit_events_per_s} events/s (all stored exactly once)`);
    console.log(`gateway fan-out of one enrolment to ${g.devices} devices: median ${g.fanout_200_ms} ms (runs ${g.fanout_200_runs_ms.join(', ')} ms)`);
  }
  await engine.close();
  let outbox: Record<string, unknown> = {};
  if (!skip.has('outbox')) {
    const o = benchOutbox();
    outbox = { outbox: o };
    console.log(`outbox with ${o.events} events queued: durable append p50 ${o.append_p50_ms} ms, peek 100 ${o.peek100_ms} ms, ack 100 ${o.ack100_ms} ms, reopen (quick_check + count) ${o.reopen_ms} ms; filled in ${o.fill_s} s`);
  }
  if (values.json) {
    const stageP50 = Object.fromEntries(Object.entries(r.stages).map(([s, v]) => [`${s}_p50_ms`, v.p50_ms]));
    console.log(JSON.stringify({ pipeline_p50_ms: r.pipeline_p50_ms, pipeline_p95_ms: r.pipeline_p95_ms, faces_per_s: r.faces_per_s, rss_mb: rssMb, providers, ...stageP50, stages: r.stages, faces: r.faces, ...pad, ...(pad && { pipeline_with_liveness_p50_ms: round2(r.pipeline_p50_ms + pad.pad_total_p50_ms) }), ...device, ...gallery, ...gateway, ...outbox }));
  }
}

main().catch((err) => {
  console.error(`bench: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
