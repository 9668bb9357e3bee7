/**
 * Audit search: person, door, result, reason, type and time range; pages of 50 with a keyset
 * cursor (stable while new entries arrive), and a CSV export of the same search. The applied
 * filters live in the address (/audit?person=...), so a search can be bookmarked or shared.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../api.ts';
import { Notice, fmtTime } from '../components.tsx';
import { decisionInWords } from '../words.ts';
import { describeEntry, type AuditItem } from './audit-words.ts';
import type { Door, PersonOption } from './device-types.ts';

const PAGE = 50;
const FIELDS = ['person', 'door', 'decision', 'reason', 'kind', 'from', 'to'] as const;
type Filters = Record<(typeof FIELDS)[number], string>;
const empty: Filters = { person: '', door: '', decision: '', reason: '', kind: '', from: '', to: '' };

const decisionReasons = ['unknown', 'not_live', 'low_score', 'low_margin', 'inactive', 'expired', 'not_yet_valid', 'no_access_to_door', 'outside_schedule', 'invalid_profile'];
const doorReasons: [string, string][] = [
  ['forced_open_alarm', 'Door forced open'],
  ['held_open_alarm', 'Door held open'],
  ['remote_unlock', 'Remote unlock'],
];

/** datetime-local (the browser's local time) <-> the ISO instant the API takes. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : '');
const toLocal = (iso: string) => {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};

function queryOf(f: Filters): URLSearchParams {
  const q = new URLSearchParams();
  for (const k of FIELDS) {
    const v = k === 'from' || k === 'to' ? toIso(f[k]) : f[k];
    if (v) q.set(k, v);
  }
  return q;
}

function filtersFromAddress(): Filters {
  const q = new URLSearchParams(location.search);
  const f = { ...empty };
  for (const k of FIELDS) f[k] = q.get(k) ?? '';
  f.from = toLocal(f.from);
  f.to = toLocal(f.to);
  return f;
}

function Select(p: { id: string; label: string; value: string; onChange: (v: string) => void; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <select id={p.id} value={p.value} onChange={(e) => p.onChange((e.target as HTMLSelectElement).value)}>
        {p.children}
      </select>
    </div>
  );
}

export function AuditSearch({ doors, doorName }: { doors: Door[]; doorName: (id: string) => string }) {
  const [form, setForm] = useState<Filters>(filtersFromAddress);
  const [applied, setApplied] = useState<Filters>(form);
  const [people, setPeople] = useState<PersonOption[]>([]);
  // Cursors of the pages before this one ('' = the first page), for "Previous page".
  const [trail, setTrail] = useState<string[]>([]);
  const [cursor, setCursor] = useState('');
  const [page, setPage] = useState<{ items: AuditItem[]; nextCursor: string | null } | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<{ items: PersonOption[] }>('GET', '/api/people?limit=1000').then((r) => setPeople(r.items), () => undefined);
  }, []);

  useEffect(() => {
    let current = true;
    const q = queryOf(applied);
    q.set('limit', String(PAGE));
    if (cursor) q.set('cursor', cursor);
    setBusy(true);
    api<{ items: AuditItem[]; nextCursor: string | null }>('GET', `/api/audit?${q}`)
      .then((r) => current && (setPage(r), setError('')))
      .catch((err: ApiError) => current && setError(err.message))
      .finally(() => current && setBusy(false));
    return () => {
      current = false;
    };
  }, [applied, cursor]);

  const set = (k: keyof Filters) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  const search = (e: Event) => {
    e.preventDefault();
    setApplied({ ...form });
    setTrail([]);
    setCursor('');
    const q = queryOf(form).toString();
    history.replaceState(null, '', `/audit${q ? `?${q}` : ''}`);
  };
  const reset = () => {
    setForm({ ...empty });
    setApplied({ ...empty });
    setTrail([]);
    setCursor('');
    history.replaceState(null, '', '/audit');
  };
  const csv = `/api/audit.csv${queryOf(applied).toString() ? `?${queryOf(applied)}` : ''}`;

  return (
    <section class="card au-search" aria-labelledby="au-search-h">
      <h2 id="au-search-h">Search</h2>
      <form class="au-form" onSubmit={search}>
        <Select id="au-person" label="Person" value={form.person} onChange={set('person')}>
          <option value="">Anyone</option>
          {people.map((p) => (
            <option value={p.id}>{p.name}{p.employeeNo ? ` (${p.employeeNo})` : ''}</option>
          ))}
          {form.person && !people.some((p) => p.id === form.person) && <option value={form.person}>{form.person}</option>}
        </Select>
        <Select id="au-door" label="Door" value={form.door} onChange={set('door')}>
          <option value="">Any</option>
          {doors.map((d) => (
            <option value={d.id}>{d.name}</option>
          ))}
        </Select>
        <Select id="au-decision" label="Result" value={form.decision} onChange={set('decision')}>
          <option value="">Any</option>
          <option value="granted">Granted</option>
          <option value="denied">Refused</option>
        </Select>
        <Select id="au-reason" label="Reason" value={form.reason} onChange={set('reason')}>
          <option value="">Any</option>
          <optgroup label="Refusals">
            {decisionReasons.map((r) => (
              <option value={r}>{decisionInWords(r)}</option>
            ))}
          </optgroup>
          <optgroup label="Door events">
            {doorReasons.map(([r, words]) => (
              <option value={r}>{words}</option>
            ))}
          </optgroup>
        </Select>
        <Select id="au-kind" label="Type" value={form.kind} onChange={set('kind')}>
          <option value="">Any</option>
          <option value="decision">Decisions</option>
          <option value="door">Door events</option>
          <option value="security">Security (rejected messages)</option>
          <option value="admin">Admin actions</option>
        </Select>
        <div class="field">
          <label for="au-from">From</label>
          <input id="au-from" type="datetime-local" value={form.from} onInput={(e) => set('from')((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="au-to">To</label>
          <input id="au-to" type="datetime-local" value={form.to} onInput={(e) => set('to')((e.target as HTMLInputElement).value)} />
        </div>
        <div class="au-form-buttons">
          <button type="submit">Search</button>
          <button type="button" class="secondary" onClick={reset}>
            Clear
          </button>
          <a class="au-export" href={csv} download>
            Export CSV
          </a>
        </div>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
      {page && page.items.length === 0 && <p>No entries match.</p>}
      {page && page.items.length > 0 && (
        <table class="responsive au-table" aria-busy={busy ? 'true' : 'false'}>
          <caption class="au-caption">
            {trail.length ? `Page ${trail.length + 1}` : 'Newest first'}
          </caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Person</th>
              <th scope="col">Door</th>
              <th scope="col">Device</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((e) => {
              const d = describeEntry(e, doorName);
              return (
                <tr key={e.id} class={d.tone === 'security' ? 'security' : undefined}>
                  <td data-label="Time">
                    <time datetime={e.time}>{fmtTime(e.ts)}</time>
                  </td>
                  <td data-label="Event" class={`au-event ${d.tone}`}>
                    {d.text}
                  </td>
                  <td data-label="Person">{e.personName ?? e.personId ?? null}</td>
                  <td data-label="Door">{e.door ? doorName(e.door) : null}</td>
                  <td data-label="Device">{e.deviceId ?? null}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <div class="au-paging">
        <button type="button" class="secondary" disabled={!trail.length || busy} onClick={() => (setCursor(trail[trail.length - 1]), setTrail(trail.slice(0, -1)))}>
          Previous page
        </button>
        <button type="button" class="secondary" disabled={!page?.nextCursor || busy} onClick={() => (setTrail([...trail, cursor]), setCursor(page!.nextCursor!))}>
          Next page
        </button>
      </div>
    </section>
  );
}
