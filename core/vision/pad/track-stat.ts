/**
 * Robust summary of per-frame cue scores over one tracked approach. The median: a hand sliding
 * over the bezel or a motion-blurred frame drops a few attack frames, a door frame lining up
 * behind a live head lifts a few live ones; neither should decide the attempt.
 */
export function robustTrackStat(scores: readonly number[]): number | undefined {
  if (!scores.length) return undefined;
  const s = [...scores].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
