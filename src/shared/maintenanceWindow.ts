/**
 * When a piece of equipment may be updated: weekly recurring windows in the place's own time zone
 * ("Tuesdays and Thursdays 02:00–04:00, Europe/Berlin"), as a biomedical engineer agrees them with
 * the ward. The inventory keeps them per device (FHIR Device); the director signs a device's
 * instructions for the next occurrence only. Shared so that neither imports the other's files.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MaintenanceWindow {
  /** The days the window opens on (its start's local day). */
  days: Weekday[];
  /** Local start time, `HH:MM` (24 h). */
  start: string;
  /** Local end time, `HH:MM`; at or before `start` means the window runs past midnight. */
  end: string;
  /** IANA time zone name of the device's site, e.g. `Europe/Berlin`. */
  timeZone: string;
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Why `value` is not a maintenance window, or undefined when it is one. Never echoes the input. */
export function maintenanceWindowProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a maintenance window is an object';
  const w = value as Record<string, unknown>;
  const extra = Object.keys(w).filter((k) => !['days', 'start', 'end', 'timeZone'].includes(k));
  if (extra.length > 0) return 'a maintenance window has only days, start, end and timeZone';
  if (!Array.isArray(w.days) || w.days.length === 0 || !w.days.every((d) => (WEEKDAYS as readonly unknown[]).includes(d)))
    return `days must be a non-empty list of ${WEEKDAYS.join(', ')}`;
  if (new Set(w.days).size !== w.days.length) return 'days must not repeat';
  if (typeof w.start !== 'string' || !HHMM.test(w.start)) return 'start must be HH:MM';
  if (typeof w.end !== 'string' || !HHMM.test(w.end)) return 'end must be HH:MM';
  if (typeof w.timeZone !== 'string' || !isTimeZone(w.timeZone)) return 'timeZone must be an IANA time zone name';
  return undefined;
}

function isTimeZone(name: string): boolean {
  if (name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
