/**
 * Weekly access windows of a person, one row per window: a door (or every door), the days the
 * window starts on, and From/To as HH:MM. Text inputs rather than type=time because a whole day
 * ends at 24:00, which a time input cannot hold. Problems from the API (path "schedules.N.field")
 * are shown in their row.
 */
import { useRef } from 'preact/hooks';

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];
const DAY_LABEL: Record<Day, string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

export interface ScheduleRow {
  /** Stable key for the row's element ids (not sent to the API). */
  key: number;
  door: string;
  days: Day[];
  from: string;
  to: string;
}

let nextKey = 1;
export const newRow = (s?: { door: string; days: string[]; from: string; to: string }): ScheduleRow => ({
  key: nextKey++,
  door: s?.door ?? '*',
  days: (s?.days ?? DAYS).filter((d): d is Day => (DAYS as readonly string[]).includes(d)),
  from: s?.from ?? '00:00',
  to: s?.to ?? '24:00',
});
export const rowsToApi = (rows: ScheduleRow[]) => rows.map(({ door, days, from, to }) => ({ door, days: DAYS.filter((d) => days.includes(d)), from: from.trim(), to: to.trim() }));

export interface Door {
  id: string;
  name: string;
}

export function ScheduleEditor(p: {
  rows: ScheduleRow[];
  doors: Door[];
  onChange: (rows: ScheduleRow[]) => void;
  /** Problem messages by path ("schedules.0.from", "schedules.0", "schedules"). */
  problems: Record<string, string>;
  idPrefix: string;
}) {
  const list = useRef<HTMLDivElement>(null);
  const set = (i: number, patch: Partial<ScheduleRow>) => p.onChange(p.rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const add = () => {
    p.onChange([...p.rows, newRow()]);
    // Keyboard users land on the new row's first control.
    setTimeout(() => list.current?.querySelector<HTMLElement>('.schedule-row:last-child select')?.focus(), 0);
  };
  const remove = (i: number) => p.onChange(p.rows.filter((_, j) => j !== i));
  const doorKnown = (id: string) => id === '*' || p.doors.some((d) => d.id === id);

  return (
    <fieldset class="schedules">
      <legend>Schedules</legend>
      {p.rows.length === 0 && <p class="muted">No schedule of their own: only their groups' schedules apply (none means no door opens).</p>}
      {p.problems.schedules && <p class="error">{p.problems.schedules}</p>}
      <div ref={list}>
        {p.rows.map((r, i) => {
          const id = `${p.idPrefix}-s${r.key}`;
          const err = (f: string) => p.problems[`schedules.${i}.${f}`];
          const rowErr = p.problems[`schedules.${i}`] ?? err('days');
          return (
            <div class="schedule-row" key={r.key} role="group" aria-label={`Schedule ${i + 1}`}>
              <div class="field">
                <label for={`${id}-door`}>Door</label>
                <select id={`${id}-door`} value={r.door} onChange={(e) => set(i, { door: (e.target as HTMLSelectElement).value })}>
                  <option value="*">Every door</option>
                  {p.doors.map((d) => (
                    <option value={d.id}>{d.name}</option>
                  ))}
                  {!doorKnown(r.door) && <option value={r.door}>{r.door} (unknown door)</option>}
                </select>
                {err('door') && <small class="error">{err('door')}</small>}
              </div>
              <fieldset class="days">
                <legend>Days</legend>
                {DAYS.map((d) => (
                  <span class="day">
                    <input
                      type="checkbox"
                      id={`${id}-${d}`}
                      checked={r.days.includes(d)}
                      onChange={(e) => set(i, { days: (e.target as HTMLInputElement).checked ? [...r.days, d] : r.days.filter((x) => x !== d) })}
                    />
                    <label for={`${id}-${d}`}>{DAY_LABEL[d]}</label>
                  </span>
                ))}
              </fieldset>
              <div class="field time">
                <label for={`${id}-from`}>From</label>
                <input
                  id={`${id}-from`}
                  value={r.from}
                  inputMode="numeric"
                  pattern="([01]\d|2[0-3]):[0-5]\d"
                  placeholder="HH:MM"
                  size={5}
                  aria-invalid={err('from') ? true : undefined}
                  aria-describedby={err('from') ? `${id}-from-err` : undefined}
                  onInput={(e) => set(i, { from: (e.target as HTMLInputElement).value })}
                />
                {err('from') && <small class="error" id={`${id}-from-err`}>{err('from')}</small>}
              </div>
              <div class="field time">
                <label for={`${id}-to`}>To</label>
                <input
                  id={`${id}-to`}
                  value={r.to}
                  inputMode="numeric"
                  pattern="([01]\d|2[0-3]):[0-5]\d|24:00"
                  placeholder="HH:MM"
                  size={5}
                  aria-invalid={err('to') ? true : undefined}
                  aria-describedby={err('to') ? `${id}-to-err` : undefined}
                  onInput={(e) => set(i, { to: (e.target as HTMLInputElement).value })}
                />
                {err('to') && <small class="error" id={`${id}-to-err`}>{err('to')}</small>}
              </div>
              <button type="button" class="secondary remove" aria-label={`Remove schedule ${i + 1}`} onClick={() => remove(i)}>
                Remove schedule
              </button>
              {rowErr && <p class="error row-error">{rowErr}</p>}
            </div>
          );
        })}
      </div>
      <button type="button" class="secondary" onClick={add}>
        Add schedule
      </button>
    </fieldset>
  );
}
