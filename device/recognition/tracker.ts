/**
 * IoU tracker: a face that stays in roughly the same place from frame to frame is one approach.
 * Votes and liveness accumulate per track, and a track makes at most one decision, so a person
 * standing at the door does not unlock it again and again.
 */
import { iou, type Box } from '../../core/vision/geometry.ts';
import type { Challenge, ChallengeStatus } from '../../core/vision/pad/challenge.ts';
import type { LivenessAttempt } from '../liveness/attempt.ts';

/** One frame's reading of a face: who it looked like (null = nobody), or no vote when quality failed. */
export interface FaceVote {
  box: Box;
  /** undefined: quality gate failed, no vote; null: matched nobody; string: best person above threshold. */
  personId?: string | null;
  score?: number;
  margin?: number;
  liveScore?: number;
  qualityReasons?: string[];
}

export interface Track {
  id: number;
  box: Box;
  firstSeen: number;
  lastSeen: number;
  /** Ring of the most recent votes (person id or null). */
  votes: (string | null)[];
  liveScores: number[];
  scores: Map<string, number[]>;
  margins: Map<string, number[]>;
  lastQualityReasons: string[];
  decided: boolean;
  /** Capture time of the track's first frame (set by the loop). */
  firstFrameTs?: number;
  /** The face this track took in the latest update (the loop maps it back to its analysis). */
  lastVote?: FaceVote;
  /** Liveness of this approach, owned by the loop (device/liveness/attempt.ts). */
  liveness?: LivenessAttempt;
  /** Set once the approach's liveness decision has been reported. */
  livenessReported?: boolean;
  /** The strict level's request (turn or blink) and its latest state. */
  challenge?: { check: Challenge; status: ChallengeStatus };
}

export class FaceTracker {
  private tracks: Track[] = [];
  private nextId = 1;

  constructor(private readonly opts: { iou: number; timeoutMs: number; voteWindow: number }) {}

  /** Assign this frame's faces to tracks (greedy by IoU), start new ones, expire stale ones. */
  update(faces: FaceVote[], now: number): Track[] {
    this.tracks = this.tracks.filter((t) => now - t.lastSeen <= this.opts.timeoutMs);
    const pairs: { t: Track; f: number; o: number }[] = [];
    for (const t of this.tracks) faces.forEach((f, i) => {
      const o = iou(t.box, f.box);
      if (o >= this.opts.iou) pairs.push({ t, f: i, o });
    });
    pairs.sort((a, b) => b.o - a.o);
    const usedT = new Set<Track>();
    const usedF = new Set<number>();
    const touched: Track[] = [];
    for (const p of pairs) {
      if (usedT.has(p.t) || usedF.has(p.f)) continue;
      usedT.add(p.t);
      usedF.add(p.f);
      this.observe(p.t, faces[p.f], now);
      touched.push(p.t);
    }
    faces.forEach((f, i) => {
      if (usedF.has(i)) return;
      const t: Track = {
        id: this.nextId++,
        box: f.box,
        firstSeen: now,
        lastSeen: now,
        votes: [],
        liveScores: [],
        scores: new Map(),
        margins: new Map(),
        lastQualityReasons: [],
        decided: false,
      };
      this.tracks.push(t);
      this.observe(t, f, now);
      touched.push(t);
    });
    return touched;
  }

  private observe(t: Track, f: FaceVote, now: number): void {
    t.box = f.box;
    t.lastSeen = now;
    t.lastVote = f;
    t.lastQualityReasons = f.qualityReasons ?? [];
    if (f.personId === undefined) return;
    t.votes.push(f.personId);
    if (t.votes.length > this.opts.voteWindow) t.votes.shift();
    if (f.liveScore !== undefined) t.liveScores.push(f.liveScore);
    if (f.personId !== null) {
      push(t.scores, f.personId, f.score ?? 0);
      if (f.margin !== undefined) push(t.margins, f.personId, f.margin);
    }
  }

  active(): readonly Track[] {
    return this.tracks;
  }
}

function push(m: Map<string, number[]>, k: string, v: number) {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

export type Verdict =
  | { kind: 'wait' }
  | { kind: 'person'; personId: string; score: number; margin?: number; live: number; liveFrames: number }
  | { kind: 'unknown'; live: number };

const mean = (a: number[]) => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : 0);

/** k-of-n vote over a track: a person (or "unknown") once `k` of the last `n` votes agree. */
export function verdict(t: Track, k: number, minLiveFrames: number): Verdict {
  if (t.decided) return { kind: 'wait' };
  const counts = new Map<string | null, number>();
  for (const v of t.votes) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | null | undefined;
  let bestN = 0;
  for (const [v, n] of counts) if (n > bestN) [best, bestN] = [v, n];
  if (bestN < k || best === undefined) return { kind: 'wait' };
  const live = mean(t.liveScores);
  if (best === null) return { kind: 'unknown', live };
  // Liveness needs its own evidence: a grant waits until enough frames were scored.
  if (t.liveScores.length < minLiveFrames) return { kind: 'wait' };
  const scores = t.scores.get(best)!;
  const margins = t.margins.get(best);
  return { kind: 'person', personId: best, score: mean(scores), margin: margins?.length ? Math.min(...margins) : undefined, live, liveFrames: t.liveScores.length };
}
