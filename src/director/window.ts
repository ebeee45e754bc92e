/**
 * The occurrence of a device's maintenance window that the director signs an instruction for: the
 * one open now, else the next to open. Local wall-clock times in the site's time zone (luxon does the
 * zone arithmetic). Daylight saving time:
 *  - a local time the clocks skip (spring forward) opens or closes at the first instant after the
 *    skip: 02:30–04:00 on the night 02:00 jumps to 03:00 runs 03:00–04:00; a window lying wholly in
 *    the skipped hour (02:00–03:00) does not happen that night;
 *  - a local time that happens twice (fall back) is its first occurrence;
 *  - whether a window runs past midnight is read from its wall-clock times (end at or before start),
 *    never from instants a skip has moved.
 */
import { DateTime } from 'luxon';
import { WEEKDAYS, maintenanceWindowProblem, type MaintenanceWindow } from '../shared/index.js';

export interface Occurrence {
  start: Date;
  end: Date;
}

/** The open or next occurrence among `windows` after `now`, within the coming eight days; undefined if none. */
export function currentOrNextOccurrence(windows: readonly MaintenanceWindow[], now: Date): Occurrence | undefined {
  let best: Occurrence | undefined;
  // A malformed window (an unknown zone, a time out of range) is no window: nothing is signed for it.
  for (const w of windows.filter((x) => maintenanceWindowProblem(x) === undefined)) {
    const local = DateTime.fromJSDate(now, { zone: w.timeZone });
    const pastMidnight = w.end <= w.start; // 'HH:MM' compares as text
    // From yesterday (a window that opened yesterday may still be open past midnight) to a week ahead.
    for (let d = -1; d <= 7; d++) {
      const day = local.startOf('day').plus({ days: d });
      if (!w.days.includes(WEEKDAYS[day.weekday - 1])) continue;
      const start = localTime(day, w.start);
      const end = localTime(pastMidnight ? day.plus({ days: 1 }) : day, w.end);
      if (end <= start || end.toJSDate() <= now) continue; // skipped by the clocks that night, or over
      const o = { start: start.toJSDate(), end: end.toJSDate() };
      if (!best || o.start < best.start) best = o;
    }
  }
  return best;
}

/** `day` at local `HH:MM`; a time the clocks skip is the first instant after the skip. */
function localTime(day: DateTime, hhmm: string): DateTime {
  const [hour, minute] = hhmm.split(':').map(Number);
  const t = day.set({ hour, minute });
  if (t.hour === hour && t.minute === minute) return t;
  // luxon moves a skipped time forward by the skip's length; the wall clock only reads at or after
  // the asked time from the transition on, so step back to the transition (at most the skip's minutes).
  const asked = `${day.toFormat('yyyy-MM-dd')}T${hhmm}`;
  let first = t;
  for (let back = t.minus({ minutes: 1 }); back.toFormat("yyyy-MM-dd'T'HH:mm") >= asked; back = back.minus({ minutes: 1 })) first = back;
  return first;
}
