/** Placeholder: built in issue 8. */
import type { Session } from '../api.ts';

export function DevicesPage(_: { session: Session }) {
  return <h1>Devices</h1>;
}
