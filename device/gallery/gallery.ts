/**
 * 1:N face gallery. Every template of every person is one row of a contiguous int8 matrix
 * (first pass, see scorer.ts) plus, by default, a contiguous fp32 copy used to re-rank the few
 * best candidates exactly. Removing a person moves the last rows into the holes, so the matrix
 * never has gaps and a search never allocates buffers.
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
    return s === undefined ? 0 : this.slotRows[s].length;
  }

  /** Append one template (normalised here) to a person, creating the person when new. */
  addTemplate(personId: string, embedding: ArrayLike<number>): void {
    normalizeInto(embedding, this.tmp); // validates before anything changes
    this.ensureRows(this.rows + 1);
    let slot = this.slotOf.get(personId);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.slotId.length;
      this.slotId[slot] = personId;
      this.slotRows[slot] = [];
      this.slotOf.set(personId, slot);
    }
    const r = this.rows++;
    this.scorer.scales[r] = quantizeInto(this.tmp, this.scorer.templates, r * this.dim);
    this.floats?.set(this.tmp, r * this.dim);
    this.rowOwner[r] = slot;
    this.slotRows[slot].push(r);
  }

  /** Replace all templates of a person. Every embedding is validated before the old ones go. */
  setPerson(personId: string, embeddings: ArrayLike<number>[]): void {
    for (const e of embeddings) normalizeInto(e, this.tmp);
    this.removePerson(personId);
    for (const e of embeddings) this.addTemplate(personId, e);
  }

  removePerson(personId: string): boolean {
    const slot = this.slotOf.get(personId);
    if (slot === undefined) return false;
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
    return { ...best, margin: best.score - second, top };
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
