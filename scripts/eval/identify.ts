/**
 * `eval --identify`: open-set 1:N identification through the device gallery.
 * Every person with more than K images (--enrol-images, default 1) is enrolled with their first K
 * (numeric order; several are fused as the gallery does) and probed with the rest; people with 2..K
 * images are enrolled too, without probes; people with a single image play unknown visitors. The metric functions are pure; the
 * I/O (reading the manifest, embedding, the gallery) sits in the last section of the file.
 *
 * With second embeddings (gallery.secondEmbedding) the gallery answers as the door does: every
 * probe whose best main score lies within gallery.fusionBand of the threshold is re-ranked by the
 * fused score (Gallery.fuse). The threshold for an FPIR is the lowest whose FPIR on the scores
 * gated around itself is within it (gatedThresholdAtFpir, as the device derives it); what the
 * fused vote achieves against the main-score threshold (the former rule) is reported beside it.
 */
import { basename, dirname, resolve } from 'node:path';
import { readTsv } from './dataset.ts';
import { embedImages, type EmbeddedImage } from './pairs.ts';
import type { VisionEngine } from '../../core/vision/engine.ts';
import type { GalleryConfig } from '../../device/gallery/config.ts';
import { Gallery } from '../../device/gallery/gallery.ts';

export interface ManifestRow {
  path: string;
  identity: string;
}

/** Image order inside a person: natural order of the file name, so 2.jpg comes before 10.jpg. */
export function compareImagePaths(a: string, b: string): number {
  return basename(a).localeCompare(basename(b), 'en', { numeric: true }) || (a < b ? -1 : a > b ? 1 : 0);
}

export interface OpenSetSplit {
  /** Gallery people (2+ images), each with their images in enrolment order. */
  people: Map<string, string[]>;
  /** Images of people with a single image: the unknown visitors. */
  unknown: ManifestRow[];
}

export function splitOpenSet(rows: ManifestRow[]): OpenSetSplit {
  const byPerson = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const r of rows) {
    if (!r.path || !r.identity) throw new Error(`manifest row needs path and identity: ${JSON.stringify(r)}`);
    if (seen.has(r.path)) throw new Error(`manifest lists ${r.path} twice`);
    seen.add(r.path);
    const list = byPerson.get(r.identity) ?? [];
    list.push(r.path);
    byPerson.set(r.identity, list);
  }
  const people = new Map<string, string[]>();
  const unknown: ManifestRow[] = [];
  for (const [identity, paths] of byPerson) {
    if (paths.length >= 2) people.set(identity, [...paths].sort(compareImagePaths));
    else unknown.push({ path: paths[0], identity });
  }
  return { people, unknown };
}

/**
 * The enrolment image: the first one, unless no face is found in it; then the next usable one,
 * as an enrolment desk would ask for another photo rather than store a faceless template.
 */
export function chooseEnrolment(paths: string[], usable: (path: string) => boolean): { enrol: string | null; fallback: boolean } {
  const i = paths.findIndex(usable);
  return { enrol: i < 0 ? null : paths[i], fallback: i > 0 };
}

/** What the gallery answered for one probe; top null = no face (or unreadable), so no search. */
export interface ProbeResult {
  identity: string;
  top: { personId: string; score: number } | null;
}

export interface FpirThreshold {
  fpir: number;
  /** A probe matches when its top-1 score >= threshold. */
  threshold: number;
  /** floor(fpir * unknown probes): how many unknown visitors may be let through. */
  allowed: number;
  false_positives: number;
  achieved_fpir: number;
}

/** Smallest double above x, so ">= threshold" excludes x itself. */
function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  buf.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return buf.getFloat64(0);
}

/**
 * The lowest threshold whose false-positive identification rate is at most `fpir`. Unknown probes
 * without a face stay in the denominator: the door rejects them, which is the right answer.
 * Tied scores share a fate, so a tie straddling the limit is rejected whole (FPIR stays under).
 */
export function thresholdAtFpir(unknown: ProbeResult[], fpir: number): FpirThreshold {
  if (!unknown.length) throw new Error('FPIR needs at least one unknown probe (a person with a single image)');
  if (!(fpir >= 0 && fpir <= 1)) throw new Error(`FPIR must be within [0, 1], got ${fpir}`);
  const scores = unknown.flatMap((p) => (p.top ? [p.top.score] : [])).sort((a, b) => b - a);
  const allowed = Math.floor(fpir * unknown.length + 1e-9);
  // Cosine never drops below -1, so -1 lets every probe with a face through.
  const threshold = allowed >= scores.length ? -1 : nextUp(scores[allowed]);
  const fp = scores.filter((s) => s >= threshold).length;
  return { fpir, threshold, allowed, false_positives: fp, achieved_fpir: fp / unknown.length };
}

/** Correct identifications at `threshold`: right person on top and score >= threshold; no face fails. */
export function tpirAt(mated: ProbeResult[], threshold: number): number {
  if (!mated.length) return 0;
  return mated.filter((p) => p.top !== null && p.top.personId === p.identity && p.top.score >= threshold).length / mated.length;
}

export function fpirAt(unknown: ProbeResult[], threshold: number): number {
  if (!unknown.length) return 0;
  return unknown.filter((p) => p.top !== null && p.top.score >= threshold).length / unknown.length;
}

/** Closed-set rank-1: right person on top whatever the score; no face fails. */
export function rank1(mated: ProbeResult[]): number {
  if (!mated.length) return 0;
  return mated.filter((p) => p.top?.personId === p.identity).length / mated.length;
}

export interface IdentifyReport {
  enrolled: number;
  /** People whose first image had no face and who were enrolled from a later one. */
  enrol_fallback: number;
  /** People none of whose images gave a face: not enrolled, their probes all fail. */
  not_enrolled: number;
  probes: number;
  unknown_probes: number;
  no_face: { enrolment: number; probes: number; unknown: number };
  decode_errors: number;
  tpir_at_fpir_1e2: number;
  threshold_fpir_1e2: number;
  tpir_at_fpir_1e3: number;
  threshold_fpir_1e3: number;
  operating_points: (FpirThreshold & { tpir: number })[];
  rank1: number;
  configured_threshold: number;
  tpir_at_configured: number;
  fpir_at_configured: number;
  /** Set when second embeddings were given: the main model's figures alone, and the fused path's details. */
  second?: SecondReport;
}

export interface SecondReport {
  main_tpir_at_fpir_1e2: number;
  main_tpir_at_fpir_1e3: number;
  /**
   * Per FPIR: the main-score threshold and what the fused vote achieves against it (the former
   * device rule), the threshold whose FPIR on the scores gated around itself is the target (what
   * the device derives now), how often the second model ran there.
   */
  points: { fpir: number; main_threshold: number; fpir_at_main_threshold: number; tpir_at_main_threshold: number; fused_threshold: number; second_run_rate: number }[];
}

export interface Scored {
  mated: ProbeResult[];
  unknown: ProbeResult[];
}

export function summarize(scored: Scored, counts: Pick<IdentifyReport, 'enrolled' | 'enrol_fallback' | 'not_enrolled' | 'no_face' | 'decode_errors'>, configuredThreshold: number): IdentifyReport {
  const points = [1e-2, 1e-3].map((f) => {
    const t = thresholdAtFpir(scored.unknown, f);
    return { ...t, tpir: tpirAt(scored.mated, t.threshold) };
  });
  return {
    ...counts,
    probes: scored.mated.length,
    unknown_probes: scored.unknown.length,
    tpir_at_fpir_1e2: points[0].tpir,
    threshold_fpir_1e2: points[0].threshold,
    tpir_at_fpir_1e3: points[1].tpir,
    threshold_fpir_1e3: points[1].threshold,
    operating_points: points,
    rank1: rank1(scored.mated),
    configured_threshold: configuredThreshold,
    tpir_at_configured: tpirAt(scored.mated, configuredThreshold),
    fpir_at_configured: fpirAt(scored.unknown, configuredThreshold),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function formatIdentifyReport(r: IdentifyReport): string {
  const lines = [
    `enrolled ${r.enrolled} people (${r.enrol_fallback} from a later image: no face in the first; ${r.not_enrolled} with no usable image)`,
    `probes ${r.probes} of enrolled people, ${r.unknown_probes} unknown visitors`,
    `no face: ${r.no_face.enrolment} enrolment images, ${r.no_face.probes} probes, ${r.no_face.unknown} unknown; decode errors ${r.decode_errors}`,
  ];
  for (const p of r.operating_points) {
    lines.push(
      `TPIR@FPIR=${p.fpir} ${pct(p.tpir)} at threshold ${p.threshold.toFixed(4)} (unknown let through ${p.false_positives}/${r.unknown_probes}, allowed ${p.allowed})`,
    );
  }
  if (r.second) {
    lines.push(`second embedding fused within the band: main model alone TPIR@FPIR=0.01 ${pct(r.second.main_tpir_at_fpir_1e2)}, @0.001 ${pct(r.second.main_tpir_at_fpir_1e3)}`);
    for (const p of r.second.points) {
      lines.push(
        `  FPIR ${p.fpir}: threshold on gated fused scores ${p.fused_threshold.toFixed(4)}, second model ran on ${pct(p.second_run_rate)} of faces; fused vote against the main threshold ${p.main_threshold.toFixed(4)} (former rule): FPIR ${pct(p.fpir_at_main_threshold)}, TPIR ${pct(p.tpir_at_main_threshold)}`,
      );
    }
  }
  lines.push(`rank-1 closed-set accuracy ${pct(r.rank1)}`);
  lines.push(`at the door's recognition.matchThreshold ${r.configured_threshold}: TPIR ${pct(r.tpir_at_configured)}, FPIR ${pct(r.fpir_at_configured)}`);
  return lines.join('\n');
}

// ---- I/O: manifest, gallery, engine ----

/** Manifest TSV (path identity ...); paths are resolved against the manifest's folder. */
export function readManifest(file: string): ManifestRow[] {
  const base = dirname(resolve(file));
  return readTsv(file).map((r, i) => {
    if (!r.path || !r.identity) throw new Error(`${file}: data row ${i + 1} lacks path or identity`);
    return { path: resolve(base, r.path), identity: r.identity };
  });
}

/** Enrol and search through a real Gallery, given embeddings already computed for every path. */
export async function runIdentification(
  rows: ManifestRow[],
  embeddings: Map<string, EmbeddedImage>,
  configuredThreshold: number,
  galleryConfig: Partial<GalleryConfig> = {},
  enrolImages = 1,
): Promise<IdentifyReport> {
  const { people, unknown } = splitOpenSet(rows);
  const emb = (p: string) => embeddings.get(p)?.embedding;
  const second = (p: string) => embeddings.get(p)?.second;
  const fused = [...embeddings.values()].some((e) => e.second);
  const noFaceIn = (paths: string[]) => paths.filter((p) => embeddings.get(p)?.error === 'no_face').length;
  const gallery = new Gallery(galleryConfig);
  try {
    const probes: { identity: string; paths: string[] }[] = [];
    const noFace = { enrolment: 0, probes: 0, unknown: noFaceIn(unknown.map((u) => u.path)) };
    let fallback = 0;
    let notEnrolled = 0;
    for (const [identity, paths] of people) {
      const { enrol, fallback: fb } = chooseEnrolmentK(paths, enrolImages, (p) => emb(p) !== undefined);
      if (enrol.length) gallery.setPerson(identity, enrol.map((p) => emb(p)!), enrol.flatMap((p) => second(p) ?? []));
      else notEnrolled++;
      if (fb) fallback++;
      noFace.enrolment += noFaceIn(paths.slice(0, enrolImages));
      // The first K images stay enrolment ones even when unusable: they never become probes.
      const rest = paths.length > enrolImages ? paths.slice(enrolImages).filter((p) => !enrol.includes(p)) : [];
      noFace.probes += noFaceIn(rest);
      probes.push({ identity, paths: rest });
    }
    // Search only once everyone is enrolled, so each probe faces the full gallery. Each probe is
    // searched once; its fused answer (Gallery.fuse) is kept beside the main one, and `scoreAll(t)`
    // gates them as the door does around threshold t (undefined: the main model alone).
    const band = gallery.config.fusionBand;
    const searchOne = (identity: string, p: string): GatedProbe => {
      const e = emb(p);
      const hit = e ? gallery.search(e) : null;
      const s2 = second(p);
      const canFuse = hit !== null && s2 !== undefined && gallery.needsSecond(hit, hit.score);
      const f = canFuse ? gallery.fuse(hit, s2) : null;
      return { identity, main: hit && { personId: hit.personId, score: hit.score }, fused: f && { personId: f.personId, score: f.score } };
    };
    const searched = { mated: probes.flatMap(({ identity, paths }) => paths.map((p) => searchOne(identity, p))), unknown: unknown.map((u) => searchOne(u.identity, u.path)) };
    let ran = 0;
    const scoreAll = (threshold?: number): Scored => {
      ran = 0;
      const one = (g: GatedProbe): ProbeResult => {
        const use = threshold !== undefined && g.fused !== null && Math.abs(g.main!.score - threshold) <= band;
        ran += use ? 1 : 0;
        return { identity: g.identity, top: use ? g.fused : g.main };
      };
      return { mated: searched.mated.map(one), unknown: searched.unknown.map(one) };
    };
    const decodeErrors = rows.filter((r) => !emb(r.path) && embeddings.get(r.path)?.error !== 'no_face').length;
    const counts = { enrolled: gallery.personCount, enrol_fallback: fallback, not_enrolled: notEnrolled, no_face: noFace, decode_errors: decodeErrors };
    const main = summarize(scoreAll(), counts, configuredThreshold);
    if (!fused) return main;
    const withFace = (s: Scored) => [...s.mated, ...s.unknown].filter((r) => r.top).length;
    const points = main.operating_points.map((m) => {
      const atMain = scoreAll(m.threshold);
      const atMainDetail = { fpir_at_main_threshold: fpirAt(atMain.unknown, m.threshold), tpir_at_main_threshold: tpirAt(atMain.mated, m.threshold) };
      // As the device derives it: the threshold whose FPIR on the scores gated around itself is
      // within the target.
      const threshold = gatedThresholdAtFpir(searched.unknown, band, m.fpir);
      const s = scoreAll(threshold);
      const fp = s.unknown.filter((p) => p.top && p.top.score >= threshold).length;
      const t: FpirThreshold = { fpir: m.fpir, threshold, allowed: Math.floor(m.fpir * s.unknown.length + 1e-9), false_positives: fp, achieved_fpir: fp / s.unknown.length };
      return {
        point: { ...t, tpir: tpirAt(s.mated, t.threshold) },
        detail: { fpir: m.fpir, main_threshold: m.threshold, ...atMainDetail, fused_threshold: threshold, second_run_rate: ran / Math.max(1, withFace(s)) },
      };
    });
    const atConfigured = scoreAll(configuredThreshold);
    return {
      ...main,
      tpir_at_fpir_1e2: points[0].point.tpir,
      threshold_fpir_1e2: points[0].point.threshold,
      tpir_at_fpir_1e3: points[1].point.tpir,
      threshold_fpir_1e3: points[1].point.threshold,
      operating_points: points.map((p) => p.point),
      tpir_at_configured: tpirAt(atConfigured.mated, configuredThreshold),
      fpir_at_configured: fpirAt(atConfigured.unknown, configuredThreshold),
      second: { main_tpir_at_fpir_1e2: main.tpir_at_fpir_1e2, main_tpir_at_fpir_1e3: main.tpir_at_fpir_1e3, points: points.map((p) => p.detail) },
    };
  } finally {
    await gallery.close();
  }
}

/** A probe's main answer and, when the second model can run for it, the fused one (Gallery.fuse). */
export interface GatedProbe {
  identity: string;
  main: { personId: string; score: number } | null;
  fused: { personId: string; score: number } | null;
}

/**
 * The lowest threshold t whose FPIR is within `fpir` when every unknown probe votes as the door
 * would at t: fused when its main score lies within `band` of t, main otherwise. The gate moves
 * with t, so t is found over every value where the count can change (just above each score, and
 * at the band's edges around each main score), not by re-setting t on scores gated around the
 * last one (that cycles). Unknown probes without a face stay in the denominator.
 */
export function gatedThresholdAtFpir(unknown: GatedProbe[], band: number, fpir: number): number {
  if (!unknown.length) throw new Error('FPIR needs at least one unknown probe (a person with a single image)');
  const faces = unknown.filter((u) => u.main);
  const allowed = Math.floor(fpir * unknown.length + 1e-9);
  const votes = (t: number) => {
    let n = 0;
    for (const u of faces) {
      const s = u.fused && Math.abs(u.main!.score - t) <= band ? u.fused.score : u.main!.score;
      if (s >= t) n++;
    }
    return n;
  };
  const candidates = new Set<number>([-1]);
  for (const u of faces) {
    candidates.add(nextUp(u.main!.score));
    if (u.fused) candidates.add(nextUp(u.fused.score));
    for (const e of [u.main!.score - band, u.main!.score + band]) {
      candidates.add(e);
      candidates.add(nextUp(e));
    }
  }
  for (const t of [...candidates].sort((a, b) => a - b)) if (votes(t) <= allowed) return t;
  return Infinity;
}

/** K enrolment images: the first K usable ones (a later image stands in for a faceless one). */
export function chooseEnrolmentK(paths: string[], k: number, usable: (path: string) => boolean): { enrol: string[]; fallback: boolean } {
  const enrol = paths.filter(usable).slice(0, Math.min(k, paths.length));
  return { enrol, fallback: enrol.some((p) => paths.indexOf(p) >= k) };
}

/**
 * The door's answer for one probe: the main search, fused with the probe's second embedding
 * when its best score lies within the gallery's band of `threshold` (Gallery.needsSecond).
 */
export function deviceSearch(gallery: Gallery, embedding: Float32Array, second?: Float32Array, threshold?: number): { top: { personId: string; score: number } | null; ranSecond: boolean } {
  let hit = gallery.search(embedding);
  const ranSecond = second !== undefined && threshold !== undefined && gallery.needsSecond(hit, threshold);
  if (ranSecond) hit = gallery.fuse(hit!, second);
  return { top: hit ? { personId: hit.personId, score: hit.score } : null, ranSecond };
}

