/** Placeholder: built in issue 8. */
import type { Session } from '../api.ts';

export function PeoplePage(_: { session: Session }) {
  return <h1>People</h1>;
}
