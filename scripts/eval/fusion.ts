/**
 * `npx tsx scripts/eval/fusion.ts --identify ../shared/faces/manifest.tsv [--pairs FILE] [--json]`
 *
 * Does the second embedding (MobileFaceNet, core/vision/second-embedder.ts) pay for itself?
 * Every manifest image is embedded by the main model (the engine as configured: int8 by default)
 * and by the second one, int8 and fp32, on the same aligned crop. Then, as eval --identify does:
 * each person with 2+ images is enrolled with the first usable image and probed with the rest,
 * people with one image are unknown visitors; TPIR at FPIR 1% and 0.1% for the main model, the
 * second, the mean of the two cosines, a cross-validated weight, and the gated variant (second
 * model only near the main threshold; how often it runs). Parameters are chosen by
 * cross-validation over identity folds (fusion-metrics.ts), never on the figures reported.
 * Also LFW verification (leave-one-fold-out) for main, second and mean, and the second model's
 * cost per face (p50 ms, int8 and fp32; noisy on a shared machine).
 */
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../core/config/load.ts';
import { cosine } from '../../core/vision/embedder.ts';
import { visionConfigSchema } from '../../core/vision/config.ts';
import { VisionEngine } from '../../core/vision/engine.ts';
import { SecondEmbedder } from '../../core/vision/second-embedder.ts';
import { readPairs } from './dataset.ts';
import { embedBoth, type DualEmbedding } from './fusion-embed.ts';
import { answer, bootstrapGain, crossValidate, figuresAt, type Answer, type ProbeScores, type Variant } from './fusion-metrics.ts';
import { chooseEnrolment, readManifest, splitOpenSet } from './identify.ts';
import { percentile } from './stats.ts';
import { leaveOneFoldOut } from './verification.ts';

const { values } = parseArgs({
  options: {
    identify: { type: 'string' },
    pairs: { type: 'string' },
    config: { type: 'string' },
    folds: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const FPIRS = [1e-2, 1e-3] as const;

function scoresAgainst(probe: Float32Array | undefined, gallery: Float32Array[]): Float32Array | null {
  if (!probe) return null;
  return Float32Array.from(gallery, (g) => cosine(probe, g));
}

interface Row {
  tpir: number;
  threshold: number;
  achieved_fpir: number;
  second_run_rate: number;
  gain_ci95?: number[];
  w_by_fold?: number[];
  band_by_fold?: number[];
}

/**
 * Every variant at one FPIR; `probes` carry the int8 second model's scores, `probes32` the fp32
 * one's (same probes, same order). Gains are against the main model, with a bootstrap interval.
 */
function identificationAt(probes: ProbeScores[], probes32: ProbeScores[], ids: string[], fpir: number, folds: number): Record<string, Row> {
  const answers = (ps: ProbeScores[], v: Variant) => ps.map((p) => ({ ...answer(p, ids, v, { w: 0.5 }), unknown: p.unknown }));
  const mainAns = answers(probes, 'main');
  const row = (a: Answer[], extra: Partial<Row> = {}, gain = true): Row => {
    const f = figuresAt(a, fpir);
    const g = gain ? bootstrapGain(mainAns, a, fpir) : undefined;
    return {
      tpir: round(f.tpir),
      threshold: round(f.threshold),
      achieved_fpir: round(f.achieved_fpir),
      second_run_rate: round(f.second_run_rate),
      ...(g ? { gain_ci95: [round(g.low), round(g.high)] } : {}),
      ...extra,
    };
  };
  const tuned = (ps: ProbeScores[], v: 'weighted' | 'gated') => {
    const cv = crossValidate(ps, ids, v, fpir, folds);
    return row(cv.answers, v === 'weighted' ? { w_by_fold: cv.params.map((p) => p.w) } : { band_by_fold: cv.params.map((p) => p.band!) });
  };
  return {
    main: row(mainAns, {}, false),
    second_int8: row(answers(probes, 'second'), {}, false),
    second_fp32: row(answers(probes32, 'second'), {}, false),
    mean_int8: row(answers(probes, 'mean')),
    mean_fp32: row(answers(probes32, 'mean')),
    weighted_int8: tuned(probes, 'weighted'),
    gated_int8: tuned(probes, 'gated'),
    gated_fp32: tuned(probes32, 'gated'),
  };
}

async function main() {
  if (!values.identify) throw new Error('usage: npx tsx scripts/eval/fusion.ts --identify <manifest.tsv> [--pairs pairs.tsv] [--json]');
  const manifest = values.identify;
  const pairsFile = values.pairs ?? join(dirname(manifest), 'pairs_lfw.tsv');
  const folds = Number(values.folds);
  const config = loadConfigFile(visionConfigSchema, values.config);
  let last: Float32Array | undefined;
  const engine = await VisionEngine.create(config, { onModelInput: (kind, data) => (kind === 'feature' ? (last = Float32Array.from(data)) : undefined) });
  const sessionOpts = { modelDir: config.modelDir, executionProviders: config.executionProviders, intraOpThreads: config.intraOpThreads };
  const second = { int8: await SecondEmbedder.create({ ...sessionOpts, precision: 'int8' }), fp32: await SecondEmbedder.create({ ...sessionOpts, precision: 'fp32' }) };
  if (second.int8.precision !== 'int8') console.error('fusion: WARNING the int8 second model is unusable, "int8" figures are fp32');

  const rows = readManifest(manifest);
  const pairs = readPairs(pairsFile);
  const paths = [...new Set([...rows.map((r) => r.path), ...pairs.flatMap((p) => [p.a, p.b])])];
  const emb = await embedBoth(engine, () => {
    const c = last;
    last = undefined;
    return c;
  }, second, paths);
  await engine.close();
  await Promise.all([second.int8.release(), second.fp32.release()]);
  const E = emb.embeddings;

  // ---- identification
  const { people, unknown } = splitOpenSet(rows);
  const ids: string[] = [];
  const gMain: Float32Array[] = [];
  const gSecond: Float32Array[] = [];
  const gSecond32: Float32Array[] = [];
  const probeRows: { identity: string; path: string; unknown: boolean }[] = [];
  for (const [identity, list] of people) {
    const { enrol } = chooseEnrolment(list, (p) => E.has(p));
    if (enrol) {
      ids.push(identity);
      gMain.push(E.get(enrol)!.main);
      gSecond.push(E.get(enrol)!.second);
      gSecond32.push(E.get(enrol)!.secondFp32);
    }
    for (const p of list) if (p !== list[0] && p !== enrol) probeRows.push({ identity, path: p, unknown: false });
  }
  for (const u of unknown) probeRows.push({ identity: u.identity, path: u.path, unknown: true });
  const probesWith = (pick: (e: DualEmbedding) => Float32Array, gallery: Float32Array[]): ProbeScores[] =>
    probeRows.map((r) => {
      const e = E.get(r.path);
      return { identity: r.identity, unknown: r.unknown, main: scoresAgainst(e?.main, gMain), second: scoresAgainst(e && pick(e), gallery) };
    });
  const probes = probesWith((e) => e.second, gSecond);
  const probes32 = probesWith((e) => e.secondFp32, gSecond32);

  const identification: Record<string, unknown> = {};
  const lines: string[] = [];
  for (const fpir of FPIRS) {
    const key = fpir === 1e-2 ? 'fpir_1e2' : 'fpir_1e3';
    const r = identificationAt(probes, probes32, ids, fpir, folds);
    identification[`tpir_at_${key}`] = r;
    lines.push(`TPIR at FPIR ${fpir}:`);
    for (const [name, f] of Object.entries(r)) {
      const extra = [
        f.gain_ci95 ? `gain ${((f.tpir - r.main.tpir) * 100).toFixed(2)} pts (95% CI ${(f.gain_ci95[0] * 100).toFixed(2)} to ${(f.gain_ci95[1] * 100).toFixed(2)})` : '',
        name !== 'main' ? `second model ran on ${pct(f.second_run_rate)} of faces` : '',
        f.w_by_fold ? `w by fold ${f.w_by_fold.join('/')}` : '',
        f.band_by_fold ? `band by fold ${f.band_by_fold.join('/')}` : '',
      ].filter(Boolean);
      lines.push(`  ${name.padEnd(17)} ${pct(f.tpir).padStart(7)} (achieved FPIR ${pct(f.achieved_fpir)})${extra.length ? `  ${extra.join('; ')}` : ''}`);
    }
  }

  // ---- LFW verification
  const pairScore = (a: string, b: string, f: (x: DualEmbedding, y: DualEmbedding) => number) => {
    const x = E.get(a);
    const y = E.get(b);
    return x && y ? f(x, y) : -1;
  };
  const lofo = (f: (x: DualEmbedding, y: DualEmbedding) => number) =>
    round(leaveOneFoldOut(pairs.map((p) => ({ score: pairScore(p.a, p.b, f), same: p.same, fold: p.fold }))).accuracy);
  const lfw = {
    pairs: pairs.length,
    main: lofo((x, y) => cosine(x.main, y.main)),
    second: lofo((x, y) => cosine(x.second, y.second)),
    mean: lofo((x, y) => (cosine(x.main, y.main) + cosine(x.second, y.second)) / 2),
    second_fp32: lofo((x, y) => cosine(x.secondFp32, y.secondFp32)),
    mean_fp32: lofo((x, y) => (cosine(x.main, y.main) + cosine(x.secondFp32, y.secondFp32)) / 2),
  };
  lines.push(
    `LFW leave-one-fold-out accuracy (${lfw.pairs} pairs): main ${pct(lfw.main)}, second ${pct(lfw.second)} (fp32 ${pct(lfw.second_fp32)}), ` +
      `mean ${pct(lfw.mean)} (fp32 ${pct(lfw.mean_fp32)})`,
  );

  const cost = {
    second_int8_p50_ms: round(percentile(emb.ms.int8, 50), 2),
    second_int8_p90_ms: round(percentile(emb.ms.int8, 90), 2),
    second_fp32_p50_ms: round(percentile(emb.ms.fp32, 50), 2),
    second_fp32_p90_ms: round(percentile(emb.ms.fp32, 90), 2),
    main_embed_p50_ms: round(percentile(emb.ms.main, 50), 2),
    faces_timed: emb.ms.int8.length,
    threads: config.intraOpThreads || 'all cores',
  };
  const q = {
    mean_cosine: round(emb.int8VsFp32.reduce((a, b) => a + b, 0) / emb.int8VsFp32.length, 5),
    p1_cosine: round(percentile(emb.int8VsFp32, 1), 5),
    min_cosine: round(Math.min(...emb.int8VsFp32), 5),
  };
  lines.push(`second model per face: int8 p50 ${cost.second_int8_p50_ms} ms (p90 ${cost.second_int8_p90_ms}), fp32 p50 ${cost.second_fp32_p50_ms} ms (p90 ${cost.second_fp32_p90_ms}) over ${cost.faces_timed} faces (main embedding stage p50 ${cost.main_embed_p50_ms} ms; shared machine, noisy)`);
  lines.push(`second model int8 vs fp32 embedding cosine: mean ${q.mean_cosine}, 1st percentile ${q.p1_cosine}, min ${q.min_cosine}`);
  const header = `enrolled ${ids.length} people, ${probes.filter((p) => !p.unknown).length} probes, ${probes.filter((p) => p.unknown).length} unknown visitors; ${emb.failed} images without a face; main precision ${engine.precision.feature}, second ${second.int8.precision}; ${folds}-fold CV over identities`;
  console.log([header, ...lines].join('\n'));
  if (values.json) {
    console.log(JSON.stringify({ enrolled: ids.length, probes: probes.length, no_face: emb.failed, main_precision: engine.precision.feature, identification, lfw, cost, second_int8_vs_fp32: q }));
  }
}

main().catch((err) => {
  console.error(`fusion: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
