/**
 * Clip lists in the format of ../shared/video/videos.tsv: `relpath label ...` with a header.
 * label "real..." is a live person, "fake..."/"attack..."/"spoof..." a presentation attack.
 * The subject is the `subject` column when there is one, else a `subject_<name>` mentioned in
 * any column, else the one subject named by the other rows of the same source repository ("same
 * person's video replayed on a phone"), else the source repository, else the file name: a list
 * from someone else's recordings needs no extra column.
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

function mentioned(r: Record<string, string>): string | undefined {
  if (r.subject) return r.subject;
  for (const v of Object.values(r)) {
    const m = /subject_[A-Za-z0-9-]+/.exec(v);
    if (m) return m[0];
  }
  return undefined;
}

export function subjectOf(r: Record<string, string>, all: Record<string, string>[] = [r]): string {
  const own = mentioned(r);
  if (own) return own;
  if (r.source_repo) {
    const names = new Set(all.filter((x) => x.source_repo === r.source_repo).map(mentioned).filter((x) => x !== undefined));
    if (names.size === 1) return [...names][0];
    return r.source_repo;
  }
  return basename(r.relpath).replace(/\.[^.]+$/, '');
}

export function readVideoList(file: string): { rows: VideoRow[]; duplicates: string[] } {
  const base = dirname(resolve(file));
  const seen = new Set<string>();
  const rows: VideoRow[] = [];
  const duplicates: string[] = [];
  const all = readTsv(file);
  all.forEach((r, i) => {
    if (!r.relpath || r.label === undefined) throw new Error(`${file}: row ${i + 2} needs relpath and label columns`);
    const recording = r.source_repo && r.source_path ? `${r.source_repo}@${r.source_commit ?? ''}:${r.source_path}` : r.relpath;
    // Frames of one recording in three containers are one recording: count its approaches once.
    if (seen.has(recording)) return void duplicates.push(r.relpath);
    seen.add(recording);
    rows.push({ path: resolve(base, r.relpath), name: r.relpath, live: labelIsLive(r.label, `${file} row ${i + 2}`), subject: subjectOf(r, all), recording });
  });
  return { rows, duplicates };
}
