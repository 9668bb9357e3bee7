/** Rows of the README's API reference for the routes gateway/auth serves itself. */
export const authRouteDocs = [
  { method: 'GET', path: '/api/setup/status', role: 'public', description: '`{needed}`: true while no admin account exists.' },
  { method: 'POST', path: '/api/setup', role: 'public', description: 'First admin: `{token, username, password}` with the one-time token printed at start; logs the new admin in (201 `{user, role, csrfToken}`). Refused once an admin exists.' },
  { method: 'POST', path: '/api/auth/login', role: 'public', description: '`{username, password}` -> session cookie (HttpOnly, SameSite=Strict) and `{user, role, csrfToken}`; send the token as `x-csrf-token` on every change. 429 with Retry-After after repeated failures.' },
  { method: 'POST', path: '/api/auth/logout', role: 'viewer', description: 'End the session.' },
  { method: 'GET', path: '/api/auth/session', role: 'viewer', description: 'The logged-in user, role and CSRF token (401 when not logged in).' },
  { method: 'POST', path: '/api/auth/password', role: 'viewer', description: 'Change your password: `{currentPassword, newPassword}`; ends your other sessions.' },
  { method: 'GET', path: '/api/users', role: 'admin', description: 'Admin accounts: `{users: [{username, role, createdAt, lastLoginAt}]}`.' },
  { method: 'POST', path: '/api/users', role: 'admin', description: 'Create an account: `{username, password, role: admin|viewer}`.' },
  { method: 'DELETE', path: '/api/users/:name', role: 'admin', description: 'Delete an account (never the last admin).' },
];
