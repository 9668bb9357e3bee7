/**
 * Adaptive enrolment (recognition.adaptive, off by default): after a grant that was confident over
 * several live frames, the mean of those frames' embeddings becomes a fresh template of the person,
 * so the gallery follows slow changes of appearance. Guarded because a template learnt from the
 * wrong face would let that face in later: only grants (liveness and policy passed), only frames
 * well above the vote threshold and well ahead of the second person, at most maxPerPerson such
 * templates (the oldest replaced, enrolled photos never), at most one per minIntervalMs, and every
 * update in the audit log. Kept in memory only: re-enrolment or a restart drops them.
 *
 * The frames' embeddings come from the gallery's search observer (the loop searches every good
 * face); the loop's 'decision' event is the hook that may turn them into a template.
 */
import type { Gallery, GallerySearchResult } from '../gallery/gallery.ts';
import type { RecognitionConfig } from './config.ts';

export interface GrantLike {
  granted: boolean;
  personId?: string;
  /** Capture time of the frame that completed the vote. */
  frameTs: number;
  door: string;
}

interface Seen {
  at: number;
  score: number;
  margin: number;
  embedding: Float32Array;
}

/** How far back a grant's frames are looked for (an approach is decided within a few seconds). */
const WINDOW_MS = 5000;

export class AdaptiveEnrolment {
  private recent = new Map<string, Seen[]>();
  private lastUpdate = new Map<string, number>();

  constructor(
    private readonly gallery: Gallery,
    private readonly config: RecognitionConfig['adaptive'],
    private readonly audit: (body: Record<string, unknown>) => void,
    private readonly now: () => number = Date.now,
  ) {
    if (config.enabled) gallery.observeSearches((q, hit) => this.observe(q, hit));
  }

  /** Search observer: keeps the recent confident frames per person (copies: q is scratch). */
  observe(query: Float32Array, hit: GallerySearchResult): void {
    if (hit.score < this.config.minScore || hit.margin < this.config.minMargin) return;
    const at = this.now();
    const list = (this.recent.get(hit.personId) ?? []).filter((s) => at - s.at <= WINDOW_MS);
    list.push({ at, score: hit.score, margin: hit.margin, embedding: Float32Array.from(query) });
    // Bounded: a person standing at the door for minutes does not grow this.
    if (list.length > this.config.minFrames * 4) list.splice(0, list.length - this.config.minFrames * 4);
    this.recent.set(hit.personId, list);
  }

  /** Call with every decision; returns whether a template was added. */
  onDecision(d: GrantLike): boolean {
    if (!this.config.enabled || !d.granted || !d.personId || !this.gallery.has(d.personId)) return false;
    const at = this.now();
    const last = this.lastUpdate.get(d.personId);
    if (last !== undefined && at - last < this.config.minIntervalMs) return false;
    const frames = (this.recent.get(d.personId) ?? []).filter((s) => at - s.at <= WINDOW_MS);
    if (frames.length < this.config.minFrames) return false;
    const dim = frames[0].embedding.length;
    const mean = new Float32Array(dim);
    for (const f of frames) for (let i = 0; i < dim; i++) mean[i] += f.embedding[i];
    const { replaced } = this.gallery.addAdaptiveTemplate(d.personId, mean, this.config.maxPerPerson);
    this.lastUpdate.set(d.personId, at);
    this.recent.delete(d.personId);
    const score = frames.reduce((s, f) => s + f.score, 0) / frames.length;
    const margin = Math.min(...frames.map((f) => f.margin));
    this.audit({ event: 'adaptive_template', personId: d.personId, door: d.door, frames: frames.length, score: round(score), minMargin: round(margin), replacedOldest: replaced, adaptiveTemplates: this.gallery.adaptiveCount(d.personId) });
    return true;
  }

  close(): void {
    if (this.config.enabled) this.gallery.observeSearches(undefined);
  }
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;
