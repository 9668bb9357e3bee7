/**
 * The live view: the latest entries, then every new one as the gateway stores it, from
 * GET /api/audit/stream (server-sent events). EventSource reconnects by itself (and resumes
 * with Last-Event-ID); if the gateway refuses the stream (a non-200 such as an expired session)
 * it stops for good: the view then asks whether the session is still there, returns to the
 * login page when it is not, and otherwise reopens the stream after a pause, after the last
 * entry it has.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, sessionEnded } from '../api.ts';
import { describeEntry, isNotable, type AuditItem } from './audit-words.ts';

const KEEP = 100;
const PRELOAD = 30;
const REOPEN_MS = 5000;
/** Ids remembered to drop repeats; far more than a reconnect can send twice, bounded on a screen left open for days. */
const SEEN_MAX = 2000;

function when(ts: number): string {
  const d = new Date(ts);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

export function LiveEntry({ e, doorName }: { e: AuditItem; doorName: (id: string) => string }) {
  const { text, tone } = describeEntry(e, doorName);
  const security = tone === 'security';
  return (
    <li class={`au-live-item ${tone}${security ? ' security' : ''}`}>
      <span class="au-what">{text}</span>
      <span class={`au-who${e.personName || e.personId ? '' : ' dv-muted'}`}>{e.personName ?? (e.personId ? `unknown person ${e.personId}` : e.kind === 'decision' ? 'unknown face' : '')}</span>
      <span class="au-where">
        {e.door ? doorName(e.door) : ''}
        {e.deviceId && <span class="dv-muted"> {e.door ? `· ${e.deviceId}` : e.deviceId}</span>}
      </span>
      <time class="au-when" datetime={new Date(e.ts).toISOString()}>
        {when(e.ts)}
      </time>
    </li>
  );
}

export function LiveAudit({ doorName }: { doorName: (id: string) => string }) {
  const [items, setItems] = useState<AuditItem[]>([]);
  const [state, setState] = useState<'connecting' | 'live' | 'retrying'>('connecting');
  const [all, setAll] = useState(false);
  const seen = useRef(new Set<number>());
  const lastId = useRef(0);

  useEffect(() => {
    let es: EventSource | undefined;
    let reopen: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;

    const add = (batch: AuditItem[]) => {
      const fresh = batch.filter((e) => !seen.current.has(e.id));
      if (!fresh.length) return;
      for (const e of fresh) {
        seen.current.add(e.id);
        lastId.current = Math.max(lastId.current, e.id);
      }
      // A Set iterates in insertion order: forget the oldest first.
      for (const id of seen.current) {
        if (seen.current.size <= SEEN_MAX) break;
        seen.current.delete(id);
      }
      setItems((old) => [...fresh].sort((a, b) => b.id - a.id).concat(old).slice(0, KEEP));
    };

    // After a preload, even an empty one, the stream starts where it ended (after=0: everything
    // written since), so nothing stored between the preload and the connection is lost. Without a
    // preload it starts at the newest entry.
    let preloaded = false;
    const open = () => {
      if (stopped) return;
      es = new EventSource(preloaded || lastId.current ? `/api/audit/stream?after=${lastId.current}` : '/api/audit/stream');
      es.onopen = () => setState('live');
      es.onmessage = (m) => {
        try {
          add([JSON.parse(m.data) as AuditItem]);
        } catch {
          // not an entry: ignore
        }
      };
      es.onerror = () => {
        if (!es || es.readyState !== EventSource.CLOSED) return setState('retrying');
        // Refused for good: an ended session goes back to the login page (no retry loop of
        // 401s); anything else (gateway restarting, too many streams) is tried again later.
        setState('retrying');
        es = undefined;
        api<{ user: string | null }>('GET', '/api/auth/session?optional=1').then(
          (s) => {
            if (stopped) return;
            if (!s?.user) return sessionEnded();
            reopen = setTimeout(open, REOPEN_MS);
          },
          () => {
            if (!stopped) reopen = setTimeout(open, REOPEN_MS);
          },
        );
      };
    };

    // The latest few first, so the view is not empty; the stream then starts after them.
    api<{ items: AuditItem[] }>('GET', `/api/audit?limit=${PRELOAD}`)
      .then((r) => {
        preloaded = true;
        add(r.items);
      })
      .catch(() => undefined)
      .finally(open);

    return () => {
      stopped = true;
      es?.close();
      clearTimeout(reopen);
    };
  }, []);

  const shown = all ? items : items.filter(isNotable);
  return (
    <section class="card au-live" aria-labelledby="au-live-h">
      <div class="au-live-head">
        <h2 id="au-live-h">Live</h2>
        <span class={`au-state ${state}`}>
          <span class="dv-dot" aria-hidden="true" />
          {state === 'live' ? 'Connected: new entries appear at the top' : state === 'connecting' ? 'Connecting…' : 'Connection lost, reconnecting…'}
        </span>
      </div>
      <div class="au-live-options">
        <input id="au-live-all" type="checkbox" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} />
        <label for="au-live-all">Also door movements and other admin actions</label>
      </div>
      <ol class="au-live-list" aria-label="Live decisions" aria-live="polite">
        {shown.map((e) => (
          <LiveEntry key={e.id} e={e} doorName={doorName} />
        ))}
      </ol>
      {!shown.length && <p class="dv-muted">Nothing yet. Decisions, door events and admin actions show up here as they happen.</p>}
    </section>
  );
}
