import { previousDay, type LocalTime } from './clock.ts';
import { parseClock, type Schedule } from './profile.ts';

export function appliesToDoor(schedule: Pick<Schedule, 'door'>, door: string): boolean {
  return schedule.door === '*' || schedule.door === door;
}

/**
 * Whether a wall-clock time falls inside a weekly window. `days` name the day a window starts,
 * so "fri 22:00-06:00" also covers Saturday 00:00-05:59. Start inclusive, end exclusive.
 * Throws on a malformed time so a bad record cannot silently widen access.
 */
export function scheduleCovers(schedule: Schedule, at: LocalTime): boolean {
  const from = parseClock(schedule.from);
  const to = parseClock(schedule.to);
  if (from === to) throw new Error(`schedule window ${schedule.from}-${schedule.to} is empty or ambiguous`);
  if (from < to) return schedule.days.includes(at.day) && at.minutes >= from && at.minutes < to;
  const lateToday = schedule.days.includes(at.day) && at.minutes >= from;
  const earlyFromYesterday = schedule.days.includes(previousDay(at.day)) && at.minutes < to;
  return lateToday || earlyFromYesterday;
}
