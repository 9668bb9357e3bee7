/** Percentiles over latency samples (nearest-rank on the sorted samples). */
export function percentile(samples: number[], p: number): number {
  if (!samples.length) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank];
}

export const round2 = (v: number) => Math.round(v * 100) / 100;
