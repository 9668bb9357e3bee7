/**
 * The admin UI shell: first-run setup, login, and the three pages (people, doors & devices,
 * audit) behind a navigation bar. The role decides what is shown: a viewer never sees a control
 * that changes something (the API refuses them anyway).
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, SESSION_ENDED, type Session } from './api.ts';
import { AuditPage } from './pages/audit.tsx';
import { DevicesPage } from './pages/devices.tsx';
import { LoginPage, SetupPage } from './pages/login.tsx';
import { PeoplePage } from './pages/people.tsx';
import { linkClick, navigate, useLocation } from './router.ts';

const pages = [
  { path: '/people', label: 'People' },
  { path: '/devices', label: 'Doors & devices' },
  { path: '/audit', label: 'Audit' },
];

function App() {
  const url = useLocation();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [setupNeeded, setSetupNeeded] = useState(false);
  // True when the session ended under the page (not by "Log out"): the login page says so.
  const [ended, setEnded] = useState(false);
  const current = useRef(session);
  current.current = session;

  useEffect(() => {
    (async () => {
      const s = await api<{ needed: boolean }>('GET', '/api/setup/status').catch(() => ({ needed: false }));
      setSetupNeeded(s.needed);
      const s2 = await api<Session | { user: null }>('GET', '/api/auth/session?optional=1').catch(() => ({ user: null }));
      setSession(s2.user ? (s2 as Session) : null);
    })();
    // The session ended under the page (idle timeout, logged out in another tab, user removed):
    // back to the login page; the address stays, so logging in again returns to the same page.
    const onEnded = () => {
      if (!current.current) return; // not logged in (or still loading): nothing to leave
      setEnded(true);
      setSession(null);
    };
    window.addEventListener(SESSION_ENDED, onEnded);
    return () => window.removeEventListener(SESSION_ENDED, onEnded);
  }, []);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (!session) {
    if (setupNeeded || url.pathname === '/setup') return <SetupPage token={url.searchParams.get('token') ?? ''} onDone={(s) => { setSetupNeeded(false); setSession(s); navigate('/people'); }} />;
    return (
      <LoginPage
        ended={ended}
        onDone={(s) => {
          setEnded(false);
          setSession(s);
        }}
      />
    );
  }
  const path = pages.some((p) => url.pathname.startsWith(p.path)) ? url.pathname : '/people';
  const logout = async () => {
    await api('POST', '/api/auth/logout').catch(() => undefined);
    setSession(null);
    navigate('/');
  };
  return (
    <>
      <header class="top">
        <span class="brand">Portier</span>
        <nav aria-label="Main">
          {pages.map((p) => (
            <a href={p.path} aria-current={path.startsWith(p.path) ? 'page' : undefined} onClick={(e) => linkClick(e, p.path)}>
              {p.label}
            </a>
          ))}
        </nav>
        <span class="who">
          {session.user} <small>({session.role})</small>
          <button type="button" class="link" onClick={logout}>
            Log out
          </button>
        </span>
      </header>
      <main id="main">
        {path.startsWith('/people') && <PeoplePage session={session} />}
        {path.startsWith('/devices') && <DevicesPage session={session} />}
        {path.startsWith('/audit') && <AuditPage session={session} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
