/**
 * The occurrence of a device's maintenance window that the director signs an instruction for: the
 * one open now, else the next to open. Local wall-clock times in the site's time zone (luxon does the
 * zone arithmetic, daylight saving time included: a window at 02:30 on the night the clocks jump
 * forward opens at 03:00, when that local time first exists).
 */
import { DateTime } from 'luxon';
import { WEEKDAYS, type MaintenanceWindow } from '../shared/index.js';

export interface Occurrence {
  start: Date;
  end: Date;
}

/** The open or next occurrence among `windows` after `now`, within the coming eight days; undefined if none. */
export function currentOrNextOccurrence(windows: readonly MaintenanceWindow[], now: Date): Occurrence | undefined {
  let best: Occurrence | undefined;
  for (const w of windows) {
    const [sh, sm] = w.start.split(':').map(Number);
    const [eh, em] = w.end.split(':').map(Number);
    const local = DateTime.fromJSDate(now, { zone: w.timeZone });
    // From yesterday (a window that opened yesterday may still be open past midnight) to a week ahead.
    for (let d = -1; d <= 7; d++) {
      const day = local.startOf('day').plus({ days: d });
      if (!w.days.includes(WEEKDAYS[day.weekday - 1])) continue;
      const start = day.set({ hour: sh, minute: sm });
      let end = day.set({ hour: eh, minute: em });
      if (end <= start) end = end.plus({ days: 1 });
      if (end.toJSDate() <= now) continue;
      const o = { start: start.toJSDate(), end: end.toJSDate() };
      if (!best || o.start < best.start) best = o;
    }
  }
  return best;
}
