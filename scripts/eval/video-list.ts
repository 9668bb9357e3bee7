/**
 * Clip lists in the format of ../shared/video/videos.tsv: `relpath label ...` with a header.
 * label "real..." is a live person, "fake..."/"attack..."/"spoof..." a presentation attack.
 * The subject is the `subject` column when there is one, else a `subject_<name>` mentioned in
 * any column, else the source recording (source_repo), else the file name: a list from someone
 * else's recordings needs no extra column.
 */
import { basename, dirname, resolve } from 'node:path';
import { readTsv } from './dataset.ts';

export interface VideoRow {
  path: string;
  name: string;
  live: boolean;
  subject: string;
  /** The same recording in another container (mp4, avi, raw MJPEG) shares this key. */
  recording: string;
}

export function labelIsLive(label: string, where: string): boolean {
  const l = label.trim().toLowerCase();
  if (/^(real|live|bona)/.test(l)) return true;
  if (/^(fake|attack|spoof|replay|print)/.test(l)) return false;
  throw new Error(`${where}: label "${label}" is neither real/live nor fake/attack`);
}

export function subjectOf(r: Record<string, string>): string {
  if (r.subject) return r.subject;
  for (const v of Object.values(r)) {
    const m = /subject_[A-Za-z0-9-]+/.exec(v);
    if (m) return m[0];
  }
  return r.source_repo || basename(r.relpath).replace(/\.[^.]+$/, '');
}

export function readVideoList(file: string): { rows: VideoRow[]; duplicates: string[] } {
  const base = dirname(resolve(file));
  const seen = new Set<string>();
  const rows: VideoRow[] = [];
  const duplicates: string[] = [];
  readTsv(file).forEach((r, i) => {
    if (!r.relpath || r.label === undefined) throw new Error(`${file}: row ${i + 2} needs relpath and label columns`);
    const recording = r.source_repo && r.source_path ? `${r.source_repo}@${r.source_commit ?? ''}:${r.source_path}` : r.relpath;
    // Frames of one recording in three containers are one recording: count its approaches once.
    if (seen.has(recording)) return void duplicates.push(r.relpath);
    seen.add(recording);
    rows.push({ path: resolve(base, r.relpath), name: r.relpath, live: labelIsLive(r.label, `${file} row ${i + 2}`), subject: subjectOf(r), recording });
  });
  return { rows, duplicates };
}
