/**
 * 1:N face gallery. Every row of a contiguous int8 matrix (first pass, see scorer.ts) plus, by
 * default, a contiguous fp32 copy used to re-rank the few best candidates exactly. Removing a
 * person moves the last rows into the holes, so the matrix never has gaps and a search never
 * allocates buffers.
 *
 * With `fusion: 'mean'` (default) a person is ONE row: the normalised mean of their templates
 * (measured better than best-of on LFW with 3 photos, see README); with 'best' every template is
 * a row and a person scores their best one.
 *
 * Optionally a second template set (gallery.secondEmbedding: MobileFaceNet, 192-d) beside the
 * main rows: per person the normalised mean of their second templates. It is never searched on
 * its own: when a search's best main score lies within gallery.fusionBand of the match threshold
 * (needsSecond), the caller embeds the probe with the second model and fuse() re-ranks the top
 * candidates by the mean of the two cosines (same scale, same threshold). People without a
 * second template (synced from the gateway, enrolled before the second model) keep their main
 * score. The threshold is derived on the scores the door votes with: fused where the band gates
 * the second model in (operating-point.ts, fpir.ts deriveGatedThreshold).
 */
import { Int8Scorer } from './scorer.ts';
import { type GalleryConfig, defaultGalleryConfig } from './config.ts';
import { dot, normalizeInto, quantizeInto } from './quantize.ts';

export interface GalleryMatch {
  personId: string;
  /** Cosine similarity of the best template of this person. */
  score: number;
  /** Which of the person's templates matched best, in the order they were added. */
  templateIndex: number;
}

export interface GallerySearchResult extends GalleryMatch {
  /** score minus the best score of a different person; with one person enrolled the other counts as -1. */
  margin: number;
  /** Best template per person, best person first, at most k entries. */
  top: GalleryMatch[];
}

export class Gallery {
  readonly config: GalleryConfig;
  readonly dim: number;
  private readonly scorer: Int8Scorer;
  private rows = 0;
  private floats: Float32Array | null;
  private rowOwner = new Int32Array(0);
  private slotId: (string | null)[] = [];
  private slotRows: number[][] = [];
  private freeSlots: number[] = [];
  private slotOf = new Map<string, number>();
  /** Templates per person (mean fusion: rows are 1 per person, so this counts the fused ones). */
  private counts: number[] = [];
  /** Adaptive templates per person, oldest first (see addAdaptiveTemplate). */
  private adaptive = new Map<number, Float32Array[]>();
  /** Mean fusion: the individual normalised templates of people enrolled with several. */
  private raws = new Map<number, Float32Array[]>();
  /** Second embedding: each person's normalised second templates, and their normalised mean. */
  private secondRaw = new Map<string, Float32Array[]>();
  private secondMean = new Map<string, Float32Array>();
  private listeners = new Set<() => void>();
  private searchObserver: ((query: Float32Array, hit: GallerySearchResult) => void) | undefined;
  /**
   * 1:N vote threshold for the current gallery when recognition.matchThreshold is not set; kept
   * up to date by OperatingPoint (operating-point.ts). The fallback is the former fixed value.
   */
  matchThreshold = 0.45;
  // Search scratch, reused every call.
  private readonly qf: Float32Array;
  private readonly tmp: Float32Array;
  private candSlot = new Int32Array(0);
  private candScore = new Float64Array(0);
  private candTemplate = new Int32Array(0);

  constructor(config: Partial<GalleryConfig> = {}) {
    this.config = { ...defaultGalleryConfig(), ...config };
    this.dim = this.config.dim;
    this.scorer = new Int8Scorer({
      dim: this.dim,
      kernel: this.config.kernel.type,
      threads: this.config.kernel.threads,
      maxRows: this.config.maxTemplates,
    });
    this.floats = this.config.keepFloat ? new Float32Array(0) : null;
    this.qf = new Float32Array(this.dim);
    this.tmp = new Float32Array(this.dim);
  }

  /** Templates held. */
  get size(): number {
    return this.rows;
  }

  get personCount(): number {
    return this.slotOf.size;
  }

  get kernel(): string {
    return `${this.scorer.kernel}x${this.scorer.threadCount}`;
  }

  has(personId: string): boolean {
    return this.slotOf.has(personId);
  }

  templateCount(personId: string): number {
    const s = this.slotOf.get(personId);
    return s === undefined ? 0 : this.counts[s];
  }

  /** Call `fn` after every change of who or what is enrolled; returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * See every search's normalised query (a scratch buffer: copy what you keep) and result; one
   * observer (adaptive enrolment). Synchronous on the hot path, so it must be cheap.
   */
  observeSearches(fn: ((query: Float32Array, hit: GallerySearchResult) => void) | undefined): void {
    this.searchObserver = fn;
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  /** Append one template (normalised here) to a person, creating the person when new. */
  addTemplate(personId: string, embedding: ArrayLike<number>): void {
    this.add(personId, embedding);
    this.changed();
  }

  private add(personId: string, embedding: ArrayLike<number>): void {
    normalizeInto(embedding, this.tmp); // validates before anything changes
    let slot = this.slotOf.get(personId);
    if (slot !== undefined && this.config.fusion === 'mean') {
      // The individual templates are kept (only for people with 2+): adaptive replacement and
      // statistics need them; a single template is its own row.
      const r = this.slotRows[slot][0];
      let raws = this.raws.get(slot);
      if (!raws) this.raws.set(slot, (raws = [this.rowFloats(r)]));
      raws.push(Float32Array.from(this.tmp));
      this.counts[slot]++;
      const sum = new Float32Array(this.dim);
      for (const v of raws) for (let i = 0; i < this.dim; i++) sum[i] += v[i];
      normalizeInto(sum, this.tmp);
      this.writeRow(r, this.tmp);
      return;
    }
    this.ensureRows(this.rows + 1);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.slotId.length;
      this.slotId[slot] = personId;
      this.slotRows[slot] = [];
      this.counts[slot] = 0;
      this.slotOf.set(personId, slot);
    }
    const r = this.rows++;
    this.writeRow(r, this.tmp);
    this.rowOwner[r] = slot;
    this.slotRows[slot].push(r);
    this.counts[slot]++;
  }

  private writeRow(r: number, v: Float32Array): void {
    this.scorer.scales[r] = quantizeInto(v, this.scorer.templates, r * this.dim);
    this.floats?.set(v, r * this.dim);
  }

  /** A copy of row r as floats (exact copy, or the int8 row scaled back). */
  private rowFloats(r: number): Float32Array {
    const d = this.dim;
    if (this.floats) return this.floats.slice(r * d, r * d + d);
    const out = new Float32Array(d);
    const s = this.scorer.scales[r];
    for (let i = 0; i < d; i++) out[i] = this.scorer.templates[r * d + i] * s;
    return out;
  }

  /**
   * Add a template learnt at the door (adaptive enrolment). At most `cap` per person: beyond it
   * the oldest adaptive one is dropped, never the enrolled ones. A later setPerson or
   * removePerson (re-enrolment, sync) drops them all.
   */
  addAdaptiveTemplate(personId: string, embedding: ArrayLike<number>, cap: number): { replaced: boolean } {
    const slot = this.slotOf.get(personId);
    if (slot === undefined) throw new Error(`adaptive template for ${personId}, who is not enrolled`);
    normalizeInto(embedding, this.tmp);
    const fresh = Float32Array.from(this.tmp);
    const list = [...(this.adaptive.get(slot) ?? []), fresh];
    const replaced = list.length > cap;
    if (replaced) list.splice(0, list.length - cap);
    const base = this.templatesOf(personId).slice(0, this.counts[slot] - (this.adaptive.get(slot)?.length ?? 0));
    this.replace(personId, [...base, ...list]);
    this.adaptive.set(this.slotOf.get(personId)!, list);
    this.changed();
    return { replaced };
  }

  adaptiveCount(personId: string): number {
    const s = this.slotOf.get(personId);
    return s === undefined ? 0 : (this.adaptive.get(s)?.length ?? 0);
  }

  /**
   * The person's templates as normalised floats in insertion order (adaptive ones last): used for
   * statistics and adaptive updates, never on the hot path.
   */
  templatesOf(personId: string): Float32Array[] {
    const slot = this.slotOf.get(personId);
    if (slot === undefined) return [];
    if (this.config.fusion === 'best') return this.slotRows[slot].map((r) => this.rowFloats(r));
    return this.raws.get(slot)?.map((v) => Float32Array.from(v)) ?? [this.rowFloats(this.slotRows[slot][0])];
  }

  /** Row r (0 <= r < size) with its person: a fused template, or one template with best-of; for statistics. */
  row(r: number): [string, Float32Array] {
    if (!(r >= 0 && r < this.rows)) throw new Error(`row ${r} outside 0..${this.rows - 1}`);
    return [this.slotId[this.rowOwner[r]]!, this.rowFloats(r)];
  }

  /**
   * Best int8 score of `query` per person (first pass only: statistics off the hot path, e.g. the
   * impostor distribution behind the derived threshold). `skip` leaves one person out.
   */
  personScores(query: ArrayLike<number>, skip?: string): Float32Array {
    return this.impostorScores(query, undefined, skip).scores;
  }

  /**
   * personScores, plus what the door would vote with for this probe (statistics for the derived
   * threshold, off the hot path): `main` its best main score (exact, as search re-ranks), `fused`
   * the best over its top-k people (gallery.topK) of mean(main, second cosine) for those with a
   * second template and main for the others, i.e. Gallery.fuse's answer. Without `querySecond`
   * or second templates, fused = main. Which one the door uses depends on the threshold
   * (needsSecond), so the caller gates them (fpir.ts gatedMaxima).
   */
  impostorScores(query: ArrayLike<number>, querySecond?: ArrayLike<number>, skip?: string): { scores: Float32Array; main: number; fused: number } {
    const out = new Float32Array(this.slotOf.size);
    if (this.rows === 0) return { scores: out, main: -Infinity, fused: -Infinity };
    normalizeInto(query, this.qf);
    // The first pass leaves out the query's own scale (it does not change a ranking): put it back.
    const qs = quantizeInto(this.qf, this.scorer.query);
    this.scorer.score(this.rows);
    const best = new Float32Array(this.slotId.length).fill(-Infinity);
    for (let i = 0; i < this.rows; i++) {
      const p = this.rowOwner[i];
      const s = this.scorer.out[i] * qs;
      if (s > best[p]) best[p] = s;
    }
    const skipSlot = skip === undefined ? -1 : (this.slotOf.get(skip) ?? -1);
    let n = 0;
    for (let p = 0; p < best.length; p++) if (this.slotId[p] !== null && p !== skipSlot && best[p] > -Infinity) out[n++] = best[p];
    // The door's top-k, as search finds it: int8 candidates re-scored exactly (skip left out).
    const k = this.config.topK;
    const cands = this.collectCandidates(k + 1 + this.config.rerankExtra);
    this.rerank(cands);
    const top: [number, number][] = [];
    for (let c = 0; c < cands && top.length < k; c++) if (this.candSlot[c] !== skipSlot) top.push([this.candSlot[c], this.candScore[c]]);
    const main = top.length ? top[0][1] : -Infinity;
    let fused = main;
    const dim = this.secondMean.values().next().value?.length;
    if (querySecond && dim !== undefined && top.length) {
      if (querySecond.length !== dim) throw new Error(`second probe of length ${querySecond.length}, second templates have ${dim}`);
      const q = new Float32Array(dim);
      normalizeInto(querySecond, q);
      fused = -Infinity;
      for (const [p, m] of top) {
        const t = this.secondMean.get(this.slotId[p]!);
        const s = t ? (m + dot(q, 0, t, 0, dim)) / 2 : m;
        if (s > fused) fused = s;
      }
    }
    return { scores: out.subarray(0, n), main, fused };
  }

  /** The person's fused (normalised mean) second template, if any: statistics only. */
  secondTemplateOf(personId: string): Float32Array | undefined {
    return this.secondMean.get(personId);
  }

  /**
   * Replace all templates of a person. Every embedding is validated before the old ones go.
   * `second`: their second-model templates; none (a gateway sync) leaves them main-score only.
   */
  setPerson(personId: string, embeddings: ArrayLike<number>[], second: ArrayLike<number>[] = []): void {
    const fusedSecond = second.length ? this.meanSecond(second) : undefined;
    this.replace(personId, embeddings);
    this.secondRaw.delete(personId);
    this.secondMean.delete(personId);
    if (fusedSecond && this.slotOf.has(personId)) {
      this.secondRaw.set(personId, fusedSecond.raws);
      this.secondMean.set(personId, fusedSecond.mean);
    }
    this.changed();
  }

  /** Append one second-model template to an enrolled person (loading the store). */
  addSecondTemplate(personId: string, embedding: ArrayLike<number>): void {
    if (!this.slotOf.has(personId)) throw new Error(`second template for ${personId}, who is not enrolled`);
    const { raws, mean } = this.meanSecond([...(this.secondRaw.get(personId) ?? []), embedding]);
    this.secondRaw.set(personId, raws);
    this.secondMean.set(personId, mean);
  }

  /** Normalised copies and their normalised mean; every second template has the same length. */
  private meanSecond(list: ArrayLike<number>[]): { raws: Float32Array[]; mean: Float32Array } {
    const dim = this.secondMean.values().next().value?.length ?? list[0].length;
    const raws = list.map((e) => {
      const v = new Float32Array(dim);
      normalizeInto(e, v);
      return v;
    });
    const mean = new Float32Array(dim);
    for (const v of raws) for (let i = 0; i < dim; i++) mean[i] += v[i];
    normalizeInto(mean, mean);
    return { raws, mean };
  }

  /** People holding a second template. */
  get secondCount(): number {
    return this.secondMean.size;
  }

  hasSecond(personId: string): boolean {
    return this.secondMean.has(personId);
  }

  /**
   * Whether `hit` is worth running the second model: its best main score lies within
   * gallery.fusionBand of `threshold` and one of its top candidates has a second template.
   */
  needsSecond(hit: GallerySearchResult | null, threshold: number): boolean {
    if (!hit || this.secondMean.size === 0) return false;
    if (Math.abs(hit.score - threshold) > this.config.fusionBand) return false;
    return hit.top.some((m) => this.secondMean.has(m.personId));
  }

  /**
   * `hit` re-ranked with the probe's second embedding: each top candidate with a second template
   * scores the mean of its main cosine and the second cosine to its fused second template; the
   * others keep their main score. The margin is taken over the re-ranked list.
   */
  fuse(hit: GallerySearchResult, probeSecond: ArrayLike<number>): GallerySearchResult {
    const dim = this.secondMean.values().next().value?.length;
    if (dim === undefined) return hit;
    const q = new Float32Array(dim);
    normalizeInto(probeSecond, q);
    const top = hit.top
      .map((m): GalleryMatch => {
        const t = this.secondMean.get(m.personId);
        return t ? { ...m, score: (m.score + dot(q, 0, t, 0, dim)) / 2 } : { ...m };
      })
      .sort((a, b) => b.score - a.score);
    // With one candidate returned, the runner-up is the one the main search measured.
    const runnerUp = top.length > 1 ? top[1].score : hit.score - hit.margin;
    return { ...top[0], margin: top[0].score - runnerUp, top };
  }

  private replace(personId: string, embeddings: ArrayLike<number>[]): void {
    for (const e of embeddings) normalizeInto(e, this.tmp);
    this.remove(personId);
    for (const e of embeddings) this.add(personId, e);
  }

  removePerson(personId: string): boolean {
    this.secondRaw.delete(personId);
    this.secondMean.delete(personId);
    const removed = this.remove(personId);
    if (removed) this.changed();
    return removed;
  }

  private remove(personId: string): boolean {
    const slot = this.slotOf.get(personId);
    if (slot === undefined) return false;
    this.raws.delete(slot);
    this.adaptive.delete(slot);
    this.counts[slot] = 0;
    // Highest rows first: the row moved into a hole then never belongs to this person.
    const rows = [...this.slotRows[slot]].sort((a, b) => b - a);
    for (const r of rows) this.removeRow(r);
    this.slotOf.delete(personId);
    this.slotId[slot] = null;
    this.slotRows[slot] = [];
    this.freeSlots.push(slot);
    return true;
  }

  private removeRow(r: number): void {
    const last = --this.rows;
    if (r === last) return;
    const d = this.dim;
    this.scorer.templates.copyWithin(r * d, last * d, last * d + d);
    this.scorer.scales[r] = this.scorer.scales[last];
    this.floats?.copyWithin(r * d, last * d, last * d + d);
    const owner = this.rowOwner[last];
    this.rowOwner[r] = owner;
    const list = this.slotRows[owner];
    list[list.indexOf(last)] = r;
  }

  private ensureRows(n: number): void {
    if (n <= this.scorer.capacity) return;
    this.scorer.ensureCapacity(n);
    const cap = this.scorer.capacity;
    const owner = new Int32Array(cap);
    owner.set(this.rowOwner.subarray(0, this.rows));
    this.rowOwner = owner;
    if (this.floats) {
      const f = new Float32Array(cap * this.dim);
      f.set(this.floats.subarray(0, this.rows * this.dim));
      this.floats = f;
    }
  }

  /** Best person for `query` (any length-dim embedding; normalised here), or null when empty. */
  search(query: ArrayLike<number>, k = this.config.topK): GallerySearchResult | null {
    if (this.rows === 0) return null;
    if (!(k >= 1)) throw new Error(`search k must be at least 1, got ${k}`);
    normalizeInto(query, this.qf);
    quantizeInto(this.qf, this.scorer.query);
    this.scorer.score(this.rows);
    const n = this.collectCandidates(Math.max(k, 2) + this.config.rerankExtra);
    this.rerank(n);
    const top: GalleryMatch[] = [];
    for (let i = 0; i < Math.min(k, n); i++) {
      top.push({ personId: this.slotId[this.candSlot[i]]!, score: this.candScore[i], templateIndex: this.candTemplate[i] });
    }
    const best = top[0];
    const second = n > 1 ? this.candScore[1] : -1;
    const result = { ...best, margin: best.score - second, top };
    this.searchObserver?.(this.qf, result);
    return result;
  }

  /** Best int8 score per person for the `want` best people, sorted descending. */
  private collectCandidates(want: number): number {
    if (this.candSlot.length < want) {
      this.candSlot = new Int32Array(want);
      this.candScore = new Float64Array(want);
      this.candTemplate = new Int32Array(want);
    }
    const out = this.scorer.out;
    const owner = this.rowOwner;
    const cs = this.candSlot;
    const sc = this.candScore;
    let n = 0;
    let floor = -Infinity;
    for (let i = 0; i < this.rows; i++) {
      const s = out[i];
      if (s <= floor) continue;
      const p = owner[i];
      let j = 0;
      while (j < n && cs[j] !== p) j++;
      if (j < n) {
        if (s <= sc[j]) continue;
      } else if (n < want) {
        j = n++;
      } else {
        j = n - 1;
      }
      // Bubble the updated entry up to keep the list sorted.
      while (j > 0 && sc[j - 1] < s) {
        cs[j] = cs[j - 1];
        sc[j] = sc[j - 1];
        j--;
      }
      cs[j] = p;
      sc[j] = s;
      if (n === want) floor = sc[n - 1];
    }
    return n;
  }

  /** Exact cosine of every template of each candidate person; re-sorts the candidates. */
  private rerank(n: number): void {
    const d = this.dim;
    const t8 = this.scorer.templates;
    const scales = this.scorer.scales;
    for (let c = 0; c < n; c++) {
      const rows = this.slotRows[this.candSlot[c]];
      let best = -Infinity;
      let bestJ = 0;
      for (let j = 0; j < rows.length; j++) {
        const r = rows[j];
        let s: number;
        if (this.floats) {
          s = dot(this.qf, 0, this.floats, r * d, d);
        } else {
          s = 0;
          const base = r * d;
          for (let i = 0; i < d; i++) s += this.qf[i] * t8[base + i];
          s *= scales[r];
        }
        if (s > best) {
          best = s;
          bestJ = j;
        }
      }
      this.candScore[c] = best;
      this.candTemplate[c] = bestJ;
    }
    for (let i = 1; i < n; i++) {
      const s = this.candScore[i];
      const p = this.candSlot[i];
      const t = this.candTemplate[i];
      let j = i;
      while (j > 0 && this.candScore[j - 1] < s) {
        this.candScore[j] = this.candScore[j - 1];
        this.candSlot[j] = this.candSlot[j - 1];
        this.candTemplate[j] = this.candTemplate[j - 1];
        j--;
      }
      this.candScore[j] = s;
      this.candSlot[j] = p;
      this.candTemplate[j] = t;
    }
  }

  async close(): Promise<void> {
    await this.scorer.close();
  }
}
