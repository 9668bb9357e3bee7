/**
 * The API client of the admin UI: JSON in and out, the session cookie sent by the browser, and
 * the CSRF token (from login/session) on every change. Errors carry the server's message.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

let csrf = '';
export const setCsrf = (t: string) => (csrf = t);

/** Fired on window when the session is gone (expired, logged out elsewhere); the shell returns to the login page. */
export const SESSION_ENDED = 'portier:session-ended';
export const sessionEnded = () => window.dispatchEvent(new Event(SESSION_ENDED));

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const text = await res.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (data && typeof data === 'object' && typeof data.csrfToken === 'string') csrf = data.csrfToken;
  // A 401 outside the login endpoints themselves means the session ended under the page.
  if (res.status === 401 && !path.startsWith('/api/auth/') && !path.startsWith('/api/setup')) sessionEnded();
  if (!res.ok) throw new ApiError(res.status, data?.error ?? 'error', data?.message ?? `${method} ${path} failed (${res.status})`, data);
  return data as T;
}

export interface Session {
  user: string;
  role: 'admin' | 'viewer';
  csrfToken: string;
}
