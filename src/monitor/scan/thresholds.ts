/**
 * The detectors' definitions: significance levels, fences and the time spans that separate
 * incidents. They follow from the false-alert budget (one per 1,000 user-days, spread over about
 * ten tests per user-day) and from what the scenarios mean; none is fitted to a data set.
 */
import { DAY_MS } from './reference.js';

/** Significance of a test made once per user over the whole log. */
export const ALPHA_USER = 1e-3;
/** Significance of a test made once per user-day (there are many more of them). */
export const ALPHA_DAY = 1e-4;
/** Robust fence: this many scaled MADs above the median. */
export const FENCE_MADS = 4;
/** Fewer peers than this say nothing about what is normal; the next wider group is used. */
export const MIN_PEERS = 5;
/** Users active on fewer days than this do not count towards a baseline (when enough others do). */
export const MIN_DAYS = 5;
/** The weeks before an employment end in which a spike is harvesting. */
export const HARVEST_WINDOW_MS = 42 * DAY_MS;
/** A mass export or print is at least this many patients in a day, whatever the baseline. */
export const MIN_MASS = 10;
/** Accesses to one patient this far apart are separate incidents. */
export const INCIDENT_GAP_MS = 7 * DAY_MS;
/** Back-and-forth between two networks this often within one hour is two sessions at once. */
export const SIMULTANEOUS_PINGS_PER_HOUR = 4;
/** Alerts at least this far apart are separate incidents of a repeat offender. */
export const REPEAT_GAP_MS = 3 * DAY_MS;
/** Bounded samples: enough patients to name in an alert and to match an incident, never all. */
export const SAMPLE = 400;
