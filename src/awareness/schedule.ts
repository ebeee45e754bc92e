/**
 * When each message of a campaign goes out: spread over the campaign's window, inside business hours
 * in each person's own time zone. Spreading matters: a whole department receiving the same message
 * within a minute warns itself ("did you get this too?"), which measures nothing; and a message that
 * arrives at 3 a.m. is read at a desk with coffee, not in the moment. Luxon does the zones and DST.
 */
import { DateTime, Interval } from 'luxon';
import { Rng } from '../util/index.js';

export interface SendingWindow {
  /** The first and last instants messages may leave (ISO 8601 with offset). */
  start: string;
  end: string;
  /** Local business hours, 'HH:MM' in each person's zone. */
  from: string;
  to: string;
  /** ISO weekdays messages may arrive on (1 Monday … 7 Sunday). */
  days: number[];
}

export const DEFAULT_HOURS = { from: '09:00', to: '17:00', days: [1, 2, 3, 4, 5] };

const HHMM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

/** The problem with a window, in words, or undefined when it is usable. */
export function windowProblem(w: SendingWindow): string | undefined {
  const start = DateTime.fromISO(w.start, { setZone: true });
  const end = DateTime.fromISO(w.end, { setZone: true });
  if (!start.isValid || !end.isValid) return 'the window needs a start and an end as dates and times (ISO 8601)';
  if (end <= start) return 'the window ends before it starts';
  if (end.diff(start, 'days').days > 92) return 'a window is at most 92 days long';
  if (!HHMM.test(w.from) || !HHMM.test(w.to) || w.to <= w.from) return 'business hours are two times HH:MM, the first before the second';
  if (w.days.length === 0 || w.days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) return 'the days are ISO weekdays, 1 (Monday) to 7 (Sunday)';
  return undefined;
}

/** The stretches of the window that are business hours in `zone`. */
export function businessIntervals(w: SendingWindow, zone: string): Interval[] {
  const start = DateTime.fromISO(w.start, { setZone: true }).setZone(zone);
  const end = DateTime.fromISO(w.end, { setZone: true }).setZone(zone);
  const whole = Interval.fromDateTimes(start, end);
  const [fh, fm] = w.from.split(':').map(Number);
  const [th, tm] = w.to.split(':').map(Number);
  const out: Interval[] = [];
  for (let day = start.startOf('day'); day < end; day = day.plus({ days: 1 })) {
    if (!w.days.includes(day.weekday)) continue;
    const hours = Interval.fromDateTimes(day.set({ hour: fh, minute: fm }), day.set({ hour: th, minute: tm }));
    const part = hours.intersection(whole);
    if (part && part.isValid && part.length() > 0) out.push(part);
  }
  return out;
}

/**
 * An instant for each person, drawn from the seeded generator so that a campaign's plan can be
 * recomputed and explained; undefined for a person whose zone leaves no business hours in the window.
 */
export function sendingTimes(w: SendingWindow, people: Array<{ id: string; timeZone: string }>, seed: number): Map<string, Date | undefined> {
  const rng = new Rng(seed);
  const byZone = new Map<string, Interval[]>();
  const out = new Map<string, Date | undefined>();
  for (const p of people) {
    let intervals = byZone.get(p.timeZone);
    if (!intervals) byZone.set(p.timeZone, (intervals = businessIntervals(w, p.timeZone)));
    const total = intervals.reduce((sum, i) => sum + i.length(), 0);
    if (total === 0) {
      out.set(p.id, undefined);
      continue;
    }
    let offset = rng.next() * total;
    for (const i of intervals) {
      const len = i.length();
      if (offset < len) {
        out.set(p.id, i.start!.plus({ milliseconds: Math.floor(offset) }).toJSDate());
        break;
      }
      offset -= len;
    }
  }
  return out;
}
