/**
 * `eval --spoof`: passive liveness on labelled frames. APCER = attacks accepted as live,
 * BPCER = live people refused, per frame and per subject (frames of one video are near
 * duplicates, so per-subject figures are the honest ones). Also scores every channel order and
 * output class, which is how the liveness defaults were chosen.
 */
import { readFileSync } from 'node:fs';
import type { VisionEngine } from '../../core/vision/engine.ts';
import { readSpoofLabels } from './dataset.ts';
import { progressBar } from './progress.ts';

interface FrameScore {
  live: boolean;
  subject: string;
  attack: string;
  /** probs[order][class] for the primary face; undefined when no face was found. */
  probs?: Record<'rgb' | 'bgr', number[]>;
}

/** Area under the ROC curve: probability a live sample scores above an attack sample. */
export function auc(live: number[], attack: number[]): number {
  if (!live.length || !attack.length) return NaN;
  let wins = 0;
  for (const l of live) for (const a of attack) wins += l > a ? 1 : l === a ? 0.5 : 0;
  return wins / (live.length * attack.length);
}

export function errorRates(samples: { live: boolean; score?: number }[], threshold: number): { apcer: number; bpcer: number } {
  const attacks = samples.filter((s) => !s.live);
  const bona = samples.filter((s) => s.live);
  // No face found: an attack is refused (good), a live person is refused (BPCER).
  const accepted = (s: { score?: number }) => s.score !== undefined && s.score >= threshold;
  return {
    apcer: attacks.length ? attacks.filter(accepted).length / attacks.length : 0,
    bpcer: bona.length ? bona.filter((s) => !accepted(s)).length / bona.length : 0,
  };
}

/** Equal-error operating point: the threshold where APCER and BPCER are closest. */
export function equalErrorThreshold(samples: { live: boolean; score?: number }[]): { threshold: number; eer: number } {
  const candidates = [...new Set(samples.map((s) => s.score ?? 0))].sort((a, b) => a - b);
  let best = { threshold: 0.5, eer: 1, gap: Infinity };
  for (const t of candidates) {
    const { apcer, bpcer } = errorRates(samples, t);
    const gap = Math.abs(apcer - bpcer);
    if (gap < best.gap || (gap === best.gap && Math.max(apcer, bpcer) < best.eer)) best = { threshold: t, eer: Math.max(apcer, bpcer), gap };
  }
  return { threshold: best.threshold, eer: best.eer };
}

export async function evalSpoof(engine: VisionEngine, file: string): Promise<{ text: string; json: Record<string, unknown> }> {
  const rows = readSpoofLabels(file);
  const frames: FrameScore[] = [];
  const bar = progressBar(rows.length, 'liveness');
  for (const r of rows) {
    const f: FrameScore = { live: r.live, subject: r.subject, attack: r.attack };
    try {
      const img = await engine.decode(readFileSync(r.path));
      const a = await engine.analyze(img, { embed: 'none', liveness: false });
      if (a.primary >= 0) {
        const box = a.faces[a.primary].box;
        f.probs = { rgb: (await engine.liveness(img, box, { channelOrder: 'rgb' })).probs, bgr: (await engine.liveness(img, box, { channelOrder: 'bgr' })).probs };
      }
    } catch {
      // Undecodable frame: treated like no face.
    }
    frames.push(f);
    bar.tick();
  }
  bar.done();
  const { channelOrder, liveClass, threshold } = engine.config.liveness;
  const score = (f: FrameScore, order: 'rgb' | 'bgr', cls: number) => f.probs?.[order][cls];
  const perFrame = frames.map((f) => ({ live: f.live, score: score(f, channelOrder, liveClass) }));
  const subjects = [...new Set(frames.map((f) => `${f.subject}|${f.live ? 'live' : 'attack'}`))];
  const perSubject = subjects.map((key) => {
    const group = frames.filter((f) => `${f.subject}|${f.live ? 'live' : 'attack'}` === key);
    const scores = group.map((f) => score(f, channelOrder, liveClass) ?? 0);
    return { live: group[0].live, score: scores.reduce((a, b) => a + b, 0) / scores.length, key };
  });
  const frameRates = errorRates(perFrame, threshold);
  const subjectRates = errorRates(perSubject, threshold);
  const variants = (['bgr', 'rgb'] as const).flatMap((order) =>
    [0, 1, 2].map((cls) => {
      const s = frames.map((f) => ({ live: f.live, score: score(f, order, cls) }));
      return {
        order,
        class: cls,
        auc: auc(s.filter((x) => x.live).map((x) => x.score ?? 0), s.filter((x) => !x.live).map((x) => x.score ?? 0)),
        ...errorRates(s, threshold),
      };
    }),
  );
  const eer = equalErrorThreshold(perFrame);
  const noFace = frames.filter((f) => !f.probs).length;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `frames ${frames.length} (live ${frames.filter((f) => f.live).length}, attack ${frames.filter((f) => !f.live).length}), no face in ${noFace}`,
    `setting: channel order ${channelOrder}, live class ${liveClass}, threshold ${threshold}`,
    `per frame:   APCER ${pct(frameRates.apcer)}  BPCER ${pct(frameRates.bpcer)}`,
    `per subject: APCER ${pct(subjectRates.apcer)}  BPCER ${pct(subjectRates.bpcer)}  (${perSubject.length} subject/label groups)`,
    `equal error rate ${pct(eer.eer)} at threshold ${eer.threshold.toFixed(4)} (per frame)`,
    'variants (per frame, AUC = P(live scores above attack)):',
    ...variants.map((v) => `  ${v.order} class ${v.class}: AUC ${v.auc.toFixed(3)}  APCER ${pct(v.apcer)}  BPCER ${pct(v.bpcer)}`),
  ];
  return {
    text: lines.join('\n'),
    json: {
      frames: frames.length,
      subjects: perSubject.length,
      no_face: noFace,
      threshold,
      channel_order: channelOrder,
      live_class: liveClass,
      apcer: frameRates.apcer,
      bpcer: frameRates.bpcer,
      apcer_per_subject: subjectRates.apcer,
      bpcer_per_subject: subjectRates.bpcer,
      eer: eer.eer,
      eer_threshold: eer.threshold,
      variants,
    },
  };
}
