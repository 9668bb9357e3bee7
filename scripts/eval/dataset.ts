/** Readers for the evaluation lists in ../shared (TSV with a header line). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function readTsv(file: string): Record<string, string>[] {
  if (!existsSync(file)) throw new Error(`${file} not found (is ../shared present? set PORTIER_SHARED)`);
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim() && !l.startsWith('#'));
  const header = lines[0].split('\t');
  return lines.slice(1).map((l) => {
    const cells = l.split('\t');
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

export interface PairRow {
  a: string;
  b: string;
  same: boolean;
  fold: number;
}

/** Pairs file: img1 img2 same [fold]; image paths are resolved against the file's folder. */
export function readPairs(file: string): PairRow[] {
  const base = dirname(resolve(file));
  return readTsv(file).map((r) => ({
    a: resolve(base, r.img1),
    b: resolve(base, r.img2),
    same: r.same === '1' || r.same === 'true',
    fold: Number(r.fold || 1),
  }));
}

export interface SpoofRow {
  path: string;
  live: boolean;
  attack: string;
  subject: string;
}

export function readSpoofLabels(file: string): SpoofRow[] {
  const base = dirname(resolve(file));
  return readTsv(file).map((r) => ({ path: resolve(base, r.relpath), live: r.label === 'real', attack: r.attack_type, subject: r.subject }));
}

/** Where the shared evaluation data lives: PORTIER_SHARED, else ../shared next to the repo. */
export function sharedDir(): string {
  return resolve(process.env.PORTIER_SHARED ?? resolve(import.meta.dirname, '../../../shared'));
}
