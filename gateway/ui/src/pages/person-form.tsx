/**
 * The "New person" / "Edit <name>" dialog: name, employee number, validity, groups and schedules.
 * The API is the judge of what is valid: its problems ({path, message}) are shown next to the
 * field they name (the form does no blocking validation of its own: noValidate).
 */
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { Dialog } from '../components.tsx';
import { type Door, newRow, rowsToApi, ScheduleEditor, type ScheduleRow } from './schedule-editor.tsx';

export interface Person {
  id: string;
  name: string;
  employeeNo: string | null;
  active: boolean;
  validFrom: string | null;
  validUntil: string | null;
  groups: string[];
  schedules: { door: string; days: string[]; from: string; to: string }[];
  templates: number;
}
export interface Group {
  id: string;
  name: string;
}

/** A date input holds YYYY-MM-DD; an instant stored by the API shows as its local date. */
const toDateInput = (v: string | null): string => {
  if (!v) return '';
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return v;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};
/** Unchanged input keeps the stored value (an instant stays an instant); empty clears it. */
const fromDateInput = (input: string, original: string | null): string | null => (!input ? null : input === toDateInput(original) && original ? original : input);

type Problems = Record<string, string>;

export function PersonForm(p: { person: Person | null; groups: Group[]; doors: Door[]; onClose: () => void; onSaved: (person: Person, created: boolean) => void }) {
  const orig = p.person;
  const [name, setName] = useState(orig?.name ?? '');
  const [employeeNo, setEmployeeNo] = useState(orig?.employeeNo ?? '');
  const [validFrom, setValidFrom] = useState(toDateInput(orig?.validFrom ?? null));
  const [validUntil, setValidUntil] = useState(toDateInput(orig?.validUntil ?? null));
  const [groups, setGroups] = useState<string[]>(orig?.groups ?? []);
  // A new person may use every door at any time until told otherwise (the plan's default row).
  const [rows, setRows] = useState<ScheduleRow[]>(() => (orig ? orig.schedules.map((s) => newRow(s)) : [newRow()]));
  const [problems, setProblems] = useState<Problems>({});
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const idp = orig ? 'edit-person' : 'new-person';

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    setProblems({});
    const body = {
      name: name.trim(),
      employeeNo: employeeNo.trim() || null,
      validFrom: fromDateInput(validFrom, orig?.validFrom ?? null),
      validUntil: fromDateInput(validUntil, orig?.validUntil ?? null),
      groups,
      schedules: rowsToApi(rows),
    };
    try {
      const saved = orig ? await api<Person>('PATCH', `/api/people/${encodeURIComponent(orig.id)}`, body) : await api<Person>('POST', '/api/people', body);
      p.onSaved(saved, !orig);
    } catch (err) {
      const list = ((err as ApiError).body as { problems?: { path: string; message: string }[] } | null)?.problems ?? [];
      const byPath: Problems = {};
      // zod's wording for an empty name is not for people.
      if (!body.name) for (const pr of list) if (pr.path === 'name') pr.message = 'Enter a name.';
      for (const pr of list) byPath[pr.path || '_'] = byPath[pr.path || '_'] ? `${byPath[pr.path || '_']}; ${pr.message}` : pr.message;
      setProblems(byPath);
      const shown = (path: string) => ['name', 'employeeNo', 'validFrom', 'validUntil'].includes(path) || path.startsWith('schedules') || path.startsWith('groups');
      const rest = list.filter((pr) => !shown(pr.path));
      setError(list.length ? `Not saved: ${list.length === 1 ? 'one problem' : `${list.length} problems`} to fix${rest.length ? ` (${rest.map((r) => `${r.path || 'request'}: ${r.message}`).join('; ')})` : ''}.` : (err as Error).message);
      setBusy(false);
      return;
    }
    setBusy(false);
  };

  const text = (id: string, label: string, path: string, value: string, set: (v: string) => void, extra: Record<string, unknown> = {}) => (
    <div class="field">
      <label for={`${idp}-${id}`}>{label}</label>
      <input
        id={`${idp}-${id}`}
        value={value}
        aria-invalid={problems[path] ? true : undefined}
        aria-describedby={problems[path] ? `${idp}-${id}-err` : undefined}
        onInput={(e) => set((e.target as HTMLInputElement).value)}
        {...extra}
      />
      {problems[path] && (
        <small class="error" id={`${idp}-${id}-err`}>
          {problems[path]}
        </small>
      )}
    </div>
  );
  const groupProblem = Object.entries(problems).find(([k]) => k.startsWith('groups'))?.[1];

  return (
    <Dialog title={orig ? `Edit ${orig.name}` : 'New person'} onClose={p.onClose} wide>
      <form class="person-form" onSubmit={submit} noValidate>
        <div class="grid2">
          {text('name', 'Name', 'name', name, setName, { required: true, autocomplete: 'off', maxLength: 200 })}
          {text('employee', 'Employee number', 'employeeNo', employeeNo, setEmployeeNo, { autocomplete: 'off', maxLength: 64 })}
          {text('from', 'Valid from', 'validFrom', validFrom, setValidFrom, { type: 'date' })}
          {text('until', 'Valid until', 'validUntil', validUntil, setValidUntil, { type: 'date' })}
        </div>
        <fieldset class="groups">
          <legend>Groups</legend>
          {p.groups.length === 0 && <p class="muted">No groups defined.</p>}
          {p.groups.map((g) => (
            <span class="check">
              <input
                type="checkbox"
                id={`${idp}-g-${g.id}`}
                checked={groups.includes(g.id)}
                onChange={(e) => setGroups((e.target as HTMLInputElement).checked ? [...groups, g.id] : groups.filter((x) => x !== g.id))}
              />
              <label for={`${idp}-g-${g.id}`}>{g.name}</label>
            </span>
          ))}
          {groups
            .filter((id) => !p.groups.some((g) => g.id === id))
            .map((id) => (
              <span class="check">
                <input type="checkbox" id={`${idp}-g-${id}`} checked onChange={() => setGroups(groups.filter((x) => x !== id))} />
                <label for={`${idp}-g-${id}`}>{id} (deleted group)</label>
              </span>
            ))}
          {groupProblem && <p class="error">{groupProblem}</p>}
        </fieldset>
        <ScheduleEditor rows={rows} doors={p.doors} onChange={setRows} problems={problems} idPrefix={idp} />
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="submit" disabled={busy}>
            Save
          </button>
          <button type="button" class="secondary" onClick={p.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
