/** First-run admin setup (one-time token from the gateway's start-up) and login. */
import { useState } from 'preact/hooks';
import { api, ApiError, type Session } from '../api.ts';

function Field(p: { id: string; label: string; type?: string; value: string; onInput: (v: string) => void; autocomplete?: string; hint?: string }) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <input id={p.id} name={p.id} type={p.type ?? 'text'} value={p.value} autocomplete={p.autocomplete} required onInput={(e) => p.onInput((e.target as HTMLInputElement).value)} aria-describedby={p.hint ? `${p.id}-hint` : undefined} />
      {p.hint && <small id={`${p.id}-hint`}>{p.hint}</small>}
    </div>
  );
}

export function SetupPage({ token: initial, onDone }: { token: string; onDone: (s: Session) => void }) {
  const [token, setToken] = useState(initial);
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    if (password !== repeat) return setError('The two passwords differ.');
    try {
      onDone(await api<Session>('POST', '/api/setup', { token, username, password }));
    } catch (err) {
      setError((err as ApiError).message);
    }
  };
  return (
    <main class="card narrow">
      <h1>Set up Portier</h1>
      <p>Create the first admin account. The one-time setup token was printed by the gateway when it started.</p>
      <form onSubmit={submit}>
        <Field id="setup-token" label="Setup token" value={token} onInput={setToken} autocomplete="off" />
        <Field id="setup-username" label="Admin user name" value={username} onInput={setUsername} autocomplete="username" />
        <Field id="setup-password" label="Password" type="password" value={password} onInput={setPassword} autocomplete="new-password" hint="At least 12 characters." />
        <Field id="setup-repeat" label="Repeat password" type="password" value={repeat} onInput={setRepeat} autocomplete="new-password" />
        {error && <p role="alert" class="error">{error}</p>}
        <button type="submit">Create admin account</button>
      </form>
    </main>
  );
}

export function LoginPage({ onDone }: { onDone: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      onDone(await api<Session>('POST', '/api/auth/login', { username, password }));
    } catch (err) {
      setError((err as ApiError).status === 429 ? 'Too many failed attempts; wait a few minutes.' : (err as ApiError).message);
    }
  };
  return (
    <main class="card narrow">
      <h1>Log in to Portier</h1>
      <form onSubmit={submit}>
        <Field id="login-username" label="User name" value={username} onInput={setUsername} autocomplete="username" />
        <Field id="login-password" label="Password" type="password" value={password} onInput={setPassword} autocomplete="current-password" />
        {error && <p role="alert" class="error">{error}</p>}
        <button type="submit">Log in</button>
      </form>
    </main>
  );
}
