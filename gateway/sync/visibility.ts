/**
 * Need to know: a device receives only the people who may open its door at some time, i.e.
 * active, not past their validity, and with a weekly window (their own or one of their groups')
 * for that door or for every door. Everyone else is sent as a deletion, so a template leaves a
 * door's memory as soon as its owner can no longer pass there.
 */
import { validityMs } from '../store/schemas.ts';
import type { Group, Person } from '../store/types.ts';

export function visibleAtDoor(person: Person, groups: (id: string) => Group | undefined, doorId: string | null, now: number): boolean {
  if (!person.active || !doorId) return false;
  const until = validityMs(person.validUntil, true);
  if (until !== null && until < now) return false;
  const covers = (s: { door: string }) => s.door === '*' || s.door === doorId;
  if (person.schedules.some(covers)) return true;
  return person.groups.some((g) => groups(g)?.schedules.some(covers) ?? false);
}
