/** CSV (RFC 4180) cells, with spreadsheet formula injection defused. */

/**
 * Quote when needed; a text cell starting with = + - @ (or tab/CR) gets a leading apostrophe so
 * a spreadsheet shows it instead of evaluating it (names and reasons can come from anyone).
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  let s = typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (cells: unknown[]): string => cells.map(csvCell).join(',') + '\r\n';
