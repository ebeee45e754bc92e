/**
 * The time windows of the access tables, each described once, and the one SQL form of "in force
 * now" every rule uses: the search predicate (predicateSql.ts) and the decision-context function
 * (contextFunction.ts) write a window only through `inForceSql`, and the context's expiry
 * (`valid_for`) reads the same columns through `windowBoundsSql`, so a window cannot be changed in
 * one place and not in another.
 */

/** Where a table keeps its time window; `openEnded`: a null bound is no bound (from always, until further notice). */
export interface TimeWindow {
  readonly starts: string;
  readonly ends: string;
  readonly openEnded: boolean;
}

/** A care relationship: widened by the settings' margins around appointments and encounters (relationshipWindowSql). */
export const RELATIONSHIP_WINDOW: TimeWindow = { starts: 'starts_at', ends: 'ends_at', openEnded: true };
/** A membership of a ward, department, care team or role. */
export const MEMBERSHIP_WINDOW: TimeWindow = { starts: 'starts_at', ends: 'ends_at', openEnded: true };
/** A consent rule (its provision's period). */
export const CONSENT_WINDOW: TimeWindow = { starts: 'starts_at', ends: 'ends_at', openEnded: true };
/** A break-the-glass or investigation grant: always bounded (opened now, expiring after the set minutes). */
export const GRANT_WINDOW: TimeWindow = { starts: 'starts_at', ends: 'expires_at', openEnded: false };

/** The moments a row's window opens and closes, when they are not its columns as stored (a relationship's margins). */
export interface Bounds {
  start: string;
  end: string;
}

/** The window's bounds on row `alias`, as stored or `widened`. */
function boundsOf(alias: string, w: TimeWindow, widened?: Bounds): Bounds {
  return widened ?? { start: `${alias}.${w.starts}`, end: `${alias}.${w.ends}` };
}

/**
 * Whether row `alias`'s window holds now. Plain comparisons with now(), no coalesce: a bounded
 * window's `expires_at > now()` is an index condition (access_grant_account ends in expires_at).
 */
export function inForceSql(alias: string, w: TimeWindow, widened?: Bounds): string {
  const { start, end } = boundsOf(alias, w, widened);
  if (!w.openEnded) return `${start} <= now() and ${end} > now()`;
  return `(${alias}.${w.starts} is null or ${start} <= now()) and (${alias}.${w.ends} is null or ${end} > now())`;
}

/** The window's two bounds on row `alias` as an SQL array (for the next moment a decision could change). */
export function windowBoundsSql(alias: string, w: TimeWindow, widened?: Bounds): string {
  const { start, end } = boundsOf(alias, w, widened);
  return `array[${start}, ${end}]`;
}

/**
 * When relationship row `g` comes into force and when it lapses (SQL expressions, null:
 * open-ended), with the margins (in seconds, SQL expressions) before an appointment, after an
 * encounter and after an appointment.
 */
export function relationshipWindowSql(g: string, beforeSecs: string, followUpSecs: string, afterSecs: string): Bounds {
  const before = `make_interval(secs => ${beforeSecs})`;
  const followUp = `make_interval(secs => ${followUpSecs})`;
  const after = `make_interval(secs => ${afterSecs})`;
  return {
    start: `(${g}.${RELATIONSHIP_WINDOW.starts} - (case when ${g}.kind = 'appointment' then ${before} else interval '0' end))`,
    end: `(${g}.${RELATIONSHIP_WINDOW.ends} + (case ${g}.kind when 'encounter' then ${followUp} when 'appointment' then ${after} else interval '0' end))`,
  };
}

/** Whether relationship row `g` is in force now, with its margins (see relationshipWindowSql). */
export function activeRelationshipSql(g: string, beforeSecs: string, followUpSecs: string, afterSecs: string): string {
  return inForceSql(g, RELATIONSHIP_WINDOW, relationshipWindowSql(g, beforeSecs, followUpSecs, afterSecs));
}
