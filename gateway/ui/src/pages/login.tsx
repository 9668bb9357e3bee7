/** First-run admin setup (one-time token from the gateway's start-up) and login. */
import { useRef, useState } from 'preact/hooks';
import { api, ApiError, type Session } from '../api.ts';
import { Field } from '../components.tsx';

/** One submit at a time: `busy` disables the button; the ref also stops a second Enter before the re-render. */
function usePending() {
  const [busy, setBusy] = useState(false);
  const running = useRef(false);
  const run = async (fn: () => Promise<void>) => {
    if (running.current) return;
    running.current = true;
    setBusy(true);
    try {
      await fn();
    } finally {
      running.current = false;
      setBusy(false);
    }
  };
  return { busy, run };
}

function TextField(p: { id: string; label: string; type?: string; value: string; onInput: (v: string) => void; autocomplete?: string; hint?: string }) {
  return (
    <Field id={p.id} label={p.label} hint={p.hint}>
      <input id={p.id} name={p.id} type={p.type ?? 'text'} value={p.value} autocomplete={p.autocomplete} required onInput={(e) => p.onInput((e.target as HTMLInputElement).value)} aria-describedby={p.hint ? `${p.id}-hint` : undefined} />
    </Field>
  );
}

export function SetupPage({ token: initial, onDone }: { token: string; onDone: (s: Session) => void }) {
  const [token, setToken] = useState(initial);
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState('');
  const { busy, run } = usePending();
  const submit = (e: Event) => {
    e.preventDefault();
    if (password !== repeat) return setError('The two passwords differ.');
    void run(async () => {
      try {
        onDone(await api<Session>('POST', '/api/setup', { token, username, password }));
      } catch (err) {
        setError((err as ApiError).message);
      }
    });
  };
  return (
    <main class="card narrow">
      <h1>Set up Portier</h1>
      <p>Create the first admin account. The one-time setup token was printed by the gateway when it started.</p>
      <form onSubmit={submit}>
        <TextField id="setup-token" label="Setup token" value={token} onInput={setToken} autocomplete="off" />
        <TextField id="setup-username" label="Admin user name" value={username} onInput={setUsername} autocomplete="username" />
        <TextField id="setup-password" label="Password" type="password" value={password} onInput={setPassword} autocomplete="new-password" hint="At least 12 characters." />
        <TextField id="setup-repeat" label="Repeat password" type="password" value={repeat} onInput={setRepeat} autocomplete="new-password" />
        {error && <p role="alert" class="error">{error}</p>}
        <button type="submit" disabled={busy}>
          Create admin account
        </button>
      </form>
    </main>
  );
}

export function LoginPage({ onDone, ended }: { onDone: (s: Session) => void; ended?: boolean }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const { busy, run } = usePending();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      try {
        onDone(await api<Session>('POST', '/api/auth/login', { username, password }));
      } catch (err) {
        setError((err as ApiError).status === 429 ? 'Too many failed attempts; wait a few minutes.' : (err as ApiError).message);
      }
    });
  };
  return (
    <main class="card narrow">
      <h1>Log in to Portier</h1>
      {ended && !error && (
        <p role="status" class="warn">
          Your session has ended; log in again.
        </p>
      )}
      <form onSubmit={submit}>
        <TextField id="login-username" label="User name" value={username} onInput={setUsername} autocomplete="username" />
        <TextField id="login-password" label="Password" type="password" value={password} onInput={setPassword} autocomplete="current-password" />
        {error && <p role="alert" class="error">{error}</p>}
        <button type="submit" disabled={busy}>
          Log in
        </button>
      </form>
    </main>
  );
}
