/** The route table: every mutation is admin-only and audited, and the README reference lists every route. */
import { describe, expect, it } from 'vitest';
import { apiReferenceMarkdown, routes } from '../../../gateway/http/routes.ts';

describe('gateway API route table', () => {
  it('makes every state-changing route admin-only with an audit action, and every route documented', () => {
    for (const r of routes) {
      expect(r.description.length, `${r.method} ${r.path}`).toBeGreaterThan(10);
      if (r.method !== 'GET') {
        expect(r.role, `${r.method} ${r.path}`).toBe('admin');
        expect((r as { action?: string }).action, `${r.method} ${r.path}`).toMatch(/^[a-z]+\.[a-z_]+$/);
      }
      if (r.role === 'public') expect(['/api/health', '/metrics']).toContain(r.path);
    }
    const actions = routes.flatMap((r) => (r.role === 'admin' ? [r.action] : []));
    expect(new Set(actions).size).toBe(actions.length);
  });

  it('renders a markdown table with each route, plus rows served elsewhere', () => {
    const md = apiReferenceMarkdown([{ method: 'POST', path: '/api/auth/login', role: 'public', description: 'Log in.' }]);
    const lines = md.split('\n');
    expect(lines[0]).toBe('| method | path | role | description |');
    expect(lines).toHaveLength(2 + routes.length + 1);
    expect(lines[2]).toBe('| POST | `/api/auth/login` | public | Log in. |');
    for (const r of routes) expect(md).toContain(`| ${r.method} | \`${r.path}\` | ${r.role} |`);
    expect(md).toContain('/api/devices/:id/unlock');
  });
});
