/**
 * In-memory index of every enrolled template (decrypted), for the duplicate check at enrolment.
 * Brute force over one contiguous Float32Array of L2-normalised rows: 50k templates x 512 floats
 * is 100 MB and a scan of ~25M multiply-adds (tens of ms), which an admin enrolling a photo does
 * not notice. Removal moves the last row into the hole so the matrix never has gaps.
 */
export interface IndexMatch {
  personId: string;
  templateId: string;
  score: number;
}

export class TemplateIndex {
  private dim = 0;
  private rows = 0;
  private data = new Float32Array(0);
  private ids: string[] = [];
  private owners: string[] = [];
  private rowOf = new Map<string, number>();

  get size(): number {
    return this.rows;
  }

  has(templateId: string): boolean {
    return this.rowOf.has(templateId);
  }

  add(templateId: string, personId: string, embedding: Float32Array): void {
    if (this.rowOf.has(templateId)) return;
    if (!this.dim) this.dim = embedding.length;
    if (embedding.length !== this.dim) throw new Error(`template has ${embedding.length} values, the index holds ${this.dim}`);
    if ((this.rows + 1) * this.dim > this.data.length) {
      const grown = new Float32Array(Math.max(64, this.rows * 2) * this.dim);
      grown.set(this.data.subarray(0, this.rows * this.dim));
      this.data = grown;
    }
    let n = 0;
    for (let i = 0; i < embedding.length; i++) n += embedding[i] * embedding[i];
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    const off = this.rows * this.dim;
    for (let i = 0; i < this.dim; i++) this.data[off + i] = embedding[i] * inv;
    this.ids[this.rows] = templateId;
    this.owners[this.rows] = personId;
    this.rowOf.set(templateId, this.rows);
    this.rows++;
  }

  remove(templateId: string): boolean {
    const row = this.rowOf.get(templateId);
    if (row === undefined) return false;
    const last = this.rows - 1;
    if (row !== last) {
      this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.ids[row] = this.ids[last];
      this.owners[row] = this.owners[last];
      this.rowOf.set(this.ids[row], row);
    }
    this.ids.length = last;
    this.owners.length = last;
    this.rowOf.delete(templateId);
    this.rows = last;
    return true;
  }

  removePerson(personId: string): number {
    const mine = this.ids.filter((_, i) => this.owners[i] === personId);
    for (const id of mine) this.remove(id);
    return mine.length;
  }

  /** Best-scoring template whose owner is not `excludePersonId` (cosine similarity), or null when there is none. */
  best(embedding: Float32Array, excludePersonId?: string): IndexMatch | null {
    if (!this.rows || embedding.length !== this.dim) return null;
    let n = 0;
    for (let i = 0; i < embedding.length; i++) n += embedding[i] * embedding[i];
    if (n === 0) return null;
    const inv = 1 / Math.sqrt(n);
    const d = this.dim;
    let bestRow = -1;
    let bestScore = -Infinity;
    for (let r = 0; r < this.rows; r++) {
      if (this.owners[r] === excludePersonId) continue;
      const off = r * d;
      let s = 0;
      for (let i = 0; i < d; i++) s += this.data[off + i] * embedding[i];
      if (s > bestScore) {
        bestScore = s;
        bestRow = r;
      }
    }
    return bestRow < 0 ? null : { personId: this.owners[bestRow], templateId: this.ids[bestRow], score: bestScore * inv };
  }
}
