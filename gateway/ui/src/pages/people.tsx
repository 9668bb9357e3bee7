/**
 * People: search and filter the register, add and edit people, enrol them from photos (upload,
 * drop, camera) or at a door, deactivate, delete. A viewer gets the same list without a single
 * control that changes anything.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError, type Session } from '../api.ts';
import { Notice } from '../components.tsx';
import { EnrolAtDoor } from './enrol-door.tsx';
import { EnrolPhotos } from './enrol-photos.tsx';
import { DeletePerson } from './person-delete.tsx';
import { type Group, type Person, PersonForm } from './person-form.tsx';
import type { Door } from './schedule-editor.tsx';

const PAGE = 50;
const DAY = 86_400_000;
const SOON = 30 * DAY;

interface PeoplePage {
  items: Person[];
  total: number;
  limit: number;
  offset: number;
}
type Open = { kind: 'new' } | { kind: 'edit' | 'enrol' | 'door' | 'delete'; person: Person } | null;

/** A stored bound is a local date (YYYY-MM-DD) or an instant. */
const boundMs = (v: string, end: boolean) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  return m ? new Date(+m[1], +m[2] - 1, +m[3] + (end ? 1 : 0)).getTime() : Date.parse(v);
};
const fmtBound = (v: string) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  return m ? new Date(+m[1], +m[2] - 1, +m[3]).toLocaleDateString() : new Date(v).toLocaleString();
};

function Validity({ p }: { p: Person }) {
  if (!p.validFrom && !p.validUntil) return <span class="muted">Always</span>;
  const now = Date.now();
  const end = p.validUntil ? boundMs(p.validUntil, true) : null;
  const start = p.validFrom ? boundMs(p.validFrom, false) : null;
  return (
    <span>
      {p.validFrom && <span class="nowrap">from {fmtBound(p.validFrom)} </span>}
      {p.validUntil && <span class="nowrap">until {fmtBound(p.validUntil)}</span>}
      {end !== null && end <= now && <span class="tag error">expired</span>}
      {end !== null && end > now && end - now <= SOON && <span class="tag warn">expires in {Math.max(1, Math.ceil((end - now) / DAY))} d</span>}
      {start !== null && start > now && <span class="tag">not yet valid</span>}
    </span>
  );
}

export function PeoplePage({ session }: { session: Session }) {
  const admin = session.role === 'admin';
  const [q, setQ] = useState('');
  const [group, setGroup] = useState('');
  const [status, setStatus] = useState<'all' | 'active' | 'inactive'>('all');
  const [expiring, setExpiring] = useState(false);
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<PeoplePage | null>(null);
  const [groups, setGroups] = useState<Group[]>([]);
  const [doors, setDoors] = useState<Door[]>([]);
  const [open, setOpen] = useState<Open>(null);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error' | 'warn'; text: string } | null>(null);
  const [loadError, setLoadError] = useState('');
  const seq = useRef(0);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    api<{ items: Group[] }>('GET', '/api/groups').then((r) => setGroups(r.items), () => undefined);
    api<{ items: Door[] }>('GET', '/api/doors').then((r) => setDoors(r.items), () => undefined);
  }, []);

  const load = async () => {
    const mine = ++seq.current;
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (q.trim()) params.set('q', q.trim());
    if (group) params.set('group', group);
    if (status !== 'all') params.set('active', String(status === 'active'));
    if (expiring) params.set('expiringBefore', new Date(Date.now() + SOON).toISOString());
    try {
      const r = await api<PeoplePage>('GET', `/api/people?${params}`);
      if (mine !== seq.current) return; // a newer search is under way
      // Deleting the last person of a page leaves it empty: step back.
      if (!r.items.length && r.offset > 0 && r.total > 0) return setOffset(Math.max(0, Math.floor((r.total - 1) / PAGE) * PAGE));
      setPage(r);
      setLoadError('');
    } catch (err) {
      if (mine === seq.current) setLoadError(`People could not be loaded: ${(err as ApiError).message}`);
    }
  };
  // Typing waits a moment before searching; the other filters apply at once.
  const typed = useRef(false);
  useEffect(() => {
    if (!typed.current) return void (typed.current = true); // the first load is the effect below
    const t = setTimeout(load, 250);
    return () => clearTimeout(t);
  }, [q]);
  useEffect(() => void load(), [group, status, expiring, offset]);

  const filter = <T,>(set: (v: T) => void) => (v: T) => {
    set(v);
    setOffset(0);
  };
  const close = () => setOpen(null);
  const groupName = (id: string) => groups.find((g) => g.id === id)?.name ?? id;

  // The person being activated or deactivated: their button stays disabled until the list shows the new state.
  const [toggling, setToggling] = useState<string | null>(null);
  const togglingNow = useRef(false); // set at once, before the re-render disables the buttons
  const toggleActive = async (p: Person) => {
    if (togglingNow.current) return;
    togglingNow.current = true;
    setToggling(p.id);
    try {
      await api('POST', `/api/people/${encodeURIComponent(p.id)}/${p.active ? 'deactivate' : 'activate'}`);
      setNotice({ kind: 'ok', text: p.active ? `${p.name} is deactivated: refused at every door.` : `${p.name} is active again.` });
    } catch (err) {
      setNotice({ kind: 'error', text: (err as ApiError).message });
    }
    await load();
    togglingNow.current = false;
    setToggling(null);
  };

  const items = page?.items ?? [];
  const total = page?.total ?? 0;
  return (
    <section class="people">
      <div class="page-head">
        <h1 ref={heading} tabIndex={-1}>
          People
        </h1>
        {admin && (
          <button type="button" onClick={() => setOpen({ kind: 'new' })}>
            Add person
          </button>
        )}
      </div>

      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <div class="field grow">
          <label for="people-search">Search people</label>
          <input id="people-search" type="search" value={q} placeholder="Name or employee number" onInput={(e) => filter(setQ)((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="people-group">Group</label>
          <select id="people-group" value={group} onChange={(e) => filter(setGroup)((e.target as HTMLSelectElement).value)}>
            <option value="">All groups</option>
            {groups.map((g) => (
              <option value={g.id}>{g.name}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="people-status">Status</label>
          <select id="people-status" value={status} onChange={(e) => filter(setStatus)((e.target as HTMLSelectElement).value as typeof status)}>
            <option value="all">All</option>
            <option value="active">Active</option>
            <option value="inactive">Inactive</option>
          </select>
        </div>
        <div class="field check-field">
          <span class="check">
            <input id="people-expiring" type="checkbox" checked={expiring} onChange={(e) => filter(setExpiring)((e.target as HTMLInputElement).checked)} />
            <label for="people-expiring">Expiring within 30 days</label>
          </span>
        </div>
      </form>

      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
      {loadError && <Notice kind="error">{loadError}</Notice>}

      {page && items.length === 0 ? (
        <p class="empty">{q || group || status !== 'all' || expiring ? 'Nobody matches these filters.' : admin ? 'Nobody is registered yet. Add a person, then enrol their photos.' : 'Nobody is registered yet.'}</p>
      ) : (
        <table class="responsive people-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Employee number</th>
              <th scope="col">Status</th>
              <th scope="col">Templates</th>
              <th scope="col">Validity</th>
              {admin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id} class={p.active ? undefined : 'inactive'}>
                <td data-label="Name">
                  <strong>{p.name}</strong>
                  {p.groups.length > 0 && <small class="muted groups-list">{p.groups.map(groupName).join(', ')}</small>}
                </td>
                <td data-label="Employee number">{p.employeeNo ?? <span class="muted">—</span>}</td>
                <td data-label="Status">{p.active ? 'Active' : 'Inactive'}</td>
                <td data-label="Templates">{p.templates === 0 ? <span class="warn">0 (not enrolled)</span> : p.templates}</td>
                <td data-label="Validity">
                  <Validity p={p} />
                </td>
                {admin && (
                  <td data-label="Actions">
                    <div class="row-actions">
                      <button type="button" class="small" aria-label={`Enrol photos for ${p.name}`} onClick={() => setOpen({ kind: 'enrol', person: p })}>
                        Enrol photos
                      </button>
                      <button type="button" class="small secondary" aria-label={`Enrol ${p.name} at a door`} onClick={() => setOpen({ kind: 'door', person: p })}>
                        At a door
                      </button>
                      <button type="button" class="small secondary" aria-label={`Edit ${p.name}`} onClick={() => setOpen({ kind: 'edit', person: p })}>
                        Edit
                      </button>
                      <button type="button" class="small secondary" aria-label={`${p.active ? 'Deactivate' : 'Activate'} ${p.name}`} disabled={toggling !== null} onClick={() => toggleActive(p)}>
                        {p.active ? 'Deactivate' : 'Activate'}
                      </button>
                      <button type="button" class="small danger" aria-label={`Delete ${p.name}`} onClick={() => setOpen({ kind: 'delete', person: p })}>
                        Delete
                      </button>
                    </div>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {page && total > PAGE && (
        <nav class="pager" aria-label="Pages of people">
          <button type="button" class="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous page
          </button>
          <span>
            {offset + 1}–{Math.min(offset + items.length, total)} of {total}
          </span>
          <button type="button" class="secondary" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
            Next page
          </button>
        </nav>
      )}
      {page && total > 0 && total <= PAGE && <p class="muted count">{total === 1 ? '1 person' : `${total} people`}</p>}

      {admin && (open?.kind === 'new' || open?.kind === 'edit') && (
        <PersonForm
          person={open.kind === 'edit' ? open.person : null}
          groups={groups}
          doors={doors}
          onClose={close}
          onSaved={(p, created) => {
            close();
            setNotice({ kind: 'ok', text: created ? `Added ${p.name}. Enrol photos so the doors recognise them.` : `Saved ${p.name}.` });
            void load();
          }}
        />
      )}
      {admin && open?.kind === 'enrol' && <EnrolPhotos person={open.person} onClose={close} onEnrolled={load} />}
      {admin && open?.kind === 'door' && <EnrolAtDoor person={open.person} doors={doors} onClose={close} onEnrolled={load} />}
      {admin && open?.kind === 'delete' && (
        <DeletePerson
          person={open.person}
          onClose={close}
          onDeleted={(n) => {
            const name = open.person.name;
            close();
            setNotice({ kind: 'ok', text: n ? `Deleted ${name}; ${n === 1 ? 'their template is' : `their ${n} templates are`} being removed from every device.` : `Deleted ${name}.` });
            // The row (and the button that opened the dialog) is gone: keep focus on the page.
            setTimeout(() => heading.current?.focus(), 0);
            void load();
          }}
        />
      )}
    </section>
  );
}
