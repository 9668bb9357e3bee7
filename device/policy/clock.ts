/**
 * Wall-clock reading of an instant in an IANA time zone. Schedules are written in local wall
 * time ("07:00-19:00 on weekdays"), so they are compared against what a clock on the wall shows
 * at that instant; Intl applies the zone's DST rules, so no offset arithmetic happens here.
 */
export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

export interface LocalTime {
  /** Day of the week at that instant, in the zone. */
  day: Weekday;
  /** Minutes since local midnight, 0..1439. */
  minutes: number;
  /** Local calendar date, YYYY-MM-DD (sorts lexicographically). */
  date: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // hourCycle h23: some engines print midnight as "24" with hour12:false.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

const dayByShortName: Record<string, Weekday> = {
  Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun',
};

export function localTime(now: Date, timeZone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(now)) parts[p.type] = p.value;
  const day = dayByShortName[parts.weekday];
  if (!day) throw new Error(`unexpected weekday "${parts.weekday}" from Intl for zone ${timeZone}`);
  return {
    day,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
    date: `${parts.year}-${parts.month}-${parts.day}`,
  };
}

export function previousDay(day: Weekday): Weekday {
  return weekdays[(weekdays.indexOf(day) + 6) % 7];
}
