/**
 * `eval --spoof-video <videos.tsv> [--spoof-video more.tsv] [--loso] [--fit out.json] [--json]`:
 * presentation-attack figures per approach and per clip, through the real recognition loop.
 * Each clip's person is enrolled from another recording of the same subject in the lists (never
 * from the clip itself); with none, the liveness decision of each approach is counted on its own.
 * APCER: attack approaches passed as live. BPCER: live approaches refused. Per clip, an attack
 * clip counts as passed when any of its approaches passed (the attacker may retry), a live clip
 * as refused when any of its approaches was refused.
 */
import { writeFileSync } from 'node:fs';
import type { VisionEngine } from '../../core/vision/engine.ts';
import { CUE_NAMES, type CueName } from '../../core/vision/pad/types.ts';
import type { LivenessConfig } from '../../device/liveness/config.ts';
import type { Calibration } from '../../device/liveness/fusion.ts';
import { clipFrames, enrolmentEmbedding, runClip, type ClipAttempt } from './clip-runner.ts';
import { describeVariant, featureAuc, leaveOneSubjectOutWith, nestedLeaveOneSubjectOut, rates, selectAndFit, type Attempt, type SubjectResult, type Variant } from './spoof-fit.ts';
import { readVideoList, type VideoRow } from './video-list.ts';
import { recognitionConfigSchema } from '../../device/recognition/config.ts';

export interface ClipRecord {
  list: string;
  clip: string;
  subject: string;
  live: boolean;
  enrolledFrom?: string;
  attempts: ClipAttempt[];
}

export interface SpoofVideoOptions {
  liveness: LivenessConfig;
  calibration: Calibration;
  attemptSeconds: number;
  strideSeconds: number;
  log?: (line: string) => void;
}

/** Play every clip of every list; returns one record per clip. */
export async function playLists(engine: VisionEngine, lists: string[], o: SpoofVideoOptions): Promise<ClipRecord[]> {
  const out: ClipRecord[] = [];
  for (const list of lists) {
    const { rows, duplicates } = readVideoList(list);
    if (duplicates.length) o.log?.(`${list}: ${duplicates.length} rows skipped as the same recording in another container (${duplicates.join(', ')})`);
    const frames = new Map<string, Buffer[]>();
    for (const r of rows) frames.set(r.path, await clipFrames(r.path));
    for (const r of rows) {
      const other = enrolmentSource(r, rows);
      const enrol = other ? await enrolmentEmbedding(engine, frames.get(other.path)!) : undefined;
      const attempts = await runClip({ engine, frames: frames.get(r.path)!, enrol, liveness: o.liveness, calibration: o.calibration, attemptSeconds: o.attemptSeconds, strideSeconds: o.strideSeconds });
      o.log?.(`${r.name}: ${attempts.length} approaches, ${attempts.filter((a) => a.liveness?.live).length} passed liveness${other ? `, enrolled from ${other.name}${enrol ? '' : ' (no usable face)'}` : ', no other recording of this subject'}`);
      out.push({ list, clip: r.name, subject: r.subject, live: r.live, enrolledFrom: enrol ? other!.name : undefined, attempts });
    }
  }
  return out;
}

/** Another recording of the same subject, a live one first (a still on a phone is still another recording). */
function enrolmentSource(r: VideoRow, rows: VideoRow[]): VideoRow | undefined {
  const others = rows.filter((x) => x.subject === r.subject && x.recording !== r.recording);
  return others.find((x) => x.live) ?? others[0];
}

/**
 * An approach counts when the door would act on it: its liveness was decided and enough of its
 * frames passed the quality gates to vote (a face too small or blurred for a decision is no attempt).
 */
const VOTES_NEEDED = recognitionConfigSchema.parse({}).votesNeeded;
export const counted = (a: ClipAttempt): boolean => a.liveness !== undefined && (a.liveness.votes ?? VOTES_NEEDED) >= VOTES_NEEDED;

export function toAttempts(clips: ClipRecord[]): (Attempt & { list: string; decisionMs: number })[] {
  return clips.flatMap((c) =>
    c.attempts.filter(counted).map((a) => ({ list: c.list, clip: c.clip, subject: c.subject, live: c.live, features: a.liveness!.features, decisionMs: a.decisionMs ?? NaN })),
  );
}

const median = (v: number[]) => {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

export interface SpoofVideoReport {
  text: string;
  json: Record<string, unknown>;
}

export function report(clips: ClipRecord[], cal: Calibration, bar: number, loso: boolean): SpoofVideoReport {
  const lines: string[] = [];
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const attempts = toAttempts(clips);
  const shipped = rates(attempts, cal, bar);
  const noDecision = clips.reduce((s, c) => s + c.attempts.filter((a) => !counted(a)).length, 0);
  const perClip = clips.map((c) => {
    const decided = c.attempts.filter(counted);
    const passed = decided.filter((a) => a.liveness!.live).length;
    const granted = c.attempts.filter((a) => a.access?.granted).length;
    return { list: c.list, clip: c.clip, subject: c.subject, live: c.live, attempts: decided.length, no_decision: c.attempts.length - decided.length, passed, granted, enrolled_from: c.enrolledFrom ?? null, decision_p50_ms: median(decided.map((a) => a.decisionMs ?? NaN)) };
  });
  const attackClips = perClip.filter((c) => !c.live && c.attempts);
  const liveClips = perClip.filter((c) => c.live && c.attempts);
  const clipApcer = attackClips.length ? attackClips.filter((c) => c.passed > 0).length / attackClips.length : 0;
  const clipBpcer = liveClips.length ? liveClips.filter((c) => c.passed < c.attempts).length / liveClips.length : 0;
  const decisionP50 = median(attempts.map((a) => a.decisionMs));
  lines.push(`approaches ${attempts.length} (${shipped.attacks} attack, ${shipped.bonaFide} live), ${noDecision} segments without a face the door would decide on`);
  lines.push(`with the shipped calibration at log-odds bar ${bar}: APCER ${pct(shipped.apcer)}  BPCER ${pct(shipped.bpcer)}  (per clip: APCER ${pct(clipApcer)}, BPCER ${pct(clipBpcer)})`);
  lines.push(`time from first sighting to liveness decision: p50 ${decisionP50.toFixed(0)} ms`);
  for (const c of perClip) lines.push(`  ${c.clip} [${c.subject}, ${c.live ? 'live' : 'attack'}]: ${c.passed}/${c.attempts} passed liveness, ${c.granted} unlocked${c.enrolled_from ? ` (enrolled from ${c.enrolled_from})` : ' (not enrolled: liveness counted alone)'}`);
  const cues: Record<string, unknown> = {};
  for (const cue of CUE_NAMES) {
    const present = attempts.filter((a) => a.features[cue] !== undefined).length;
    if (!present) continue;
    const without = rates(attempts, cal, bar, [cue]);
    const only = rates(attempts, cal, bar, CUE_NAMES.filter((c) => c !== cue));
    cues[cue] = { auc: round(featureAuc(attempts, cue)), present, apcer_without: round(without.apcer), bpcer_without: round(without.bpcer), apcer_alone: round(only.apcer), bpcer_alone: round(only.bpcer), weight: cal.cues[cue] ?? null };
    lines.push(`  cue ${cue}: AUC ${featureAuc(attempts, cue).toFixed(3)} on ${present} approaches; without it APCER ${pct(without.apcer)} BPCER ${pct(without.bpcer)}; alone APCER ${pct(only.apcer)} BPCER ${pct(only.bpcer)}`);
  }
  const json: Record<string, unknown> = {
    apcer: round(shipped.apcer),
    bpcer: round(shipped.bpcer),
    attempts: attempts.length,
    attack_attempts: shipped.attacks,
    live_attempts: shipped.bonaFide,
    no_decision: noDecision,
    decision_p50_ms: Math.round(decisionP50),
    clip_apcer: round(clipApcer),
    clip_bpcer: round(clipBpcer),
    cues,
    per_clip: perClip,
    bar,
  };
  if (loso) {
    const subjects = [...new Set(attempts.map((a) => a.subject))];
    const lists = [...new Set(clips.map((c) => c.list))];
    const { variant } = selectAndFit(attempts, bar);
    lines.push(`leave one subject out, model ${describeVariant(variant)} (chosen by its leave-one-subject-out error over all subjects); weights fitted on the other subjects:`);
    json.loso = byList(lists, attempts, leaveOneSubjectOutWith(attempts, subjects, bar, variant), lines);
    json.loso_model = describeVariant(variant);
    lines.push('fully nested (the model too chosen without the subject left out; with two live subjects the inner choice has little to go on):');
    json.loso_nested = byList(lists, attempts, nestedLeaveOneSubjectOut(attempts, subjects, bar), lines);
  }
  return { text: lines.join('\n'), json };
}

/** Held-out rates per list and per subject of that list, pooled over the list's subjects. */
function byList(lists: string[], attempts: (Attempt & { list: string })[], results: (SubjectResult & { variant?: Variant })[], lines: string[]): Record<string, unknown> {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const out: Record<string, unknown> = {};
  for (const list of lists) {
    const here = new Set(attempts.filter((a) => a.list === list).map((a) => a.subject));
    const failed = results.filter((p) => here.has(p.subject) && p.error);
    const rows = results.filter((p) => here.has(p.subject) && !p.error);
    const att = rows.reduce((s, r) => s + r.attacks, 0);
    const bona = rows.reduce((s, r) => s + r.bonaFide, 0);
    const apcer = att ? rows.reduce((s, r) => s + r.apcer * r.attacks, 0) / att : 0;
    const bpcer = bona ? rows.reduce((s, r) => s + r.bpcer * r.bonaFide, 0) / bona : 0;
    out[list] = {
      apcer: round(apcer),
      bpcer: round(bpcer),
      per_subject: rows.map((r) => ({ subject: r.subject, attacks: r.attacks, bona_fide: r.bonaFide, apcer: round(r.apcer), bpcer: round(r.bpcer), ...(r.variant && { model: describeVariant(r.variant) }) })),
      not_scored: failed.map((f) => ({ subject: f.subject, error: f.error })),
    };
    lines.push(`  ${list}: APCER ${pct(apcer)} (${att} attack approaches), BPCER ${pct(bpcer)} (${bona} live)`);
    for (const r of rows) lines.push(`    ${r.subject}: APCER ${r.attacks ? pct(r.apcer) : '-'} of ${r.attacks}, BPCER ${r.bonaFide ? pct(r.bpcer) : '-'} of ${r.bonaFide}${r.variant ? ` (${describeVariant(r.variant)})` : ''}`);
    for (const f of failed) lines.push(`    ${f.subject}: not scored: ${f.error}`);
  }
  return out;
}

/** The shipped weights: the variant chosen by leaving one subject out, fitted on every approach. */
export function fitAll(clips: ClipRecord[], lists: string[], bar: number): Calibration {
  const attempts = toAttempts(clips);
  if (!lists.length) lists = [...new Set(clips.map((c) => c.list))];
  const { calibration, variant, innerHter } = selectAndFit(attempts, bar);
  calibration.about =
    `npm run eval -- ${lists.map((l) => `--spoof-video ${l}`).join(' ')} --fit: ${attempts.length} approaches of ${new Set(attempts.map((a) => a.subject)).size} subjects; ` +
    `${describeVariant(variant)}, chosen by leave-one-subject-out (half total error ${(innerHter * 100).toFixed(1)}%)`;
  return calibration;
}

export function writeCalibration(file: string, cal: Calibration): void {
  const cues: Partial<Record<CueName, unknown>> = {};
  for (const [k, v] of Object.entries(cal.cues)) cues[k as CueName] = { weight: round(v.weight, 6), center: round(v.center, 6), cap: v.cap };
  writeFileSync(file, `${JSON.stringify({ about: cal.about, intercept: round(cal.intercept, 6), cues }, null, 2)}\n`);
}

const round = (x: number, d = 4) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);
