/** Placeholder: built in issue 8. */
import type { Session } from '../api.ts';

export function AuditPage(_: { session: Session }) {
  return <h1>Audit</h1>;
}
