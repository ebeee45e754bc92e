/**
 * The one place that decides whether a database failure means "the database is away" (a restart, a
 * failover, a cut network path: answer 503 and try again shortly) rather than a fault of the
 * statement or of Carewall (500).
 */

/**
 * The database cannot be reached now. The original error is kept as `cause` for the log; neither
 * its text nor this one goes into a response (database errors can quote the values they refused).
 */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Socket errors of a connection that broke, was refused or never answered. */
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN']);

/**
 * SQLSTATEs outside class 08 (connection exception) that mean the server is going or not yet there:
 * admin_shutdown (a fast shutdown or restart), crash_shutdown (another backend crashed, all are
 * reset), cannot_connect_now (starting up, shutting down, in recovery), and too_many_connections
 * (every process reconnecting at once after a restart).
 */
const SERVER_GOING_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * What node-postgres and its pool say, without a code, when a connection ends under a query, when a
 * broken client is used, or when no connection came within connectionTimeoutMillis.
 */
const DRIVER_MESSAGES = [
  /^Connection terminated/,
  /^Client has encountered a connection error and is not queryable$/,
  /^timeout exceeded when trying to connect$/,
  /^Query read timeout$/,
];

/**
 * Whether `err` is a lost, refused or timed-out connection to the database. What an error wraps as
 * its `cause` is not looked at: a wrapper (the audit log's AuditUnavailableError) has its own answer.
 */
export function isConnectionFailure(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 2) return false;
  if (err instanceof DatabaseUnavailableError) return true;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (SOCKET_CODES.has(e.code) || SERVER_GOING_CODES.has(e.code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(e.code)) return true;
  }
  // A driver error has no code; a statement's error has a SQLSTATE and is never a driver message.
  if (typeof e.message === 'string' && typeof e.code !== 'string' && DRIVER_MESSAGES.some((m) => m.test(e.message as string))) return true;
  // Connecting to a name with several addresses fails with one error per address (AggregateError).
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((x) => isConnectionFailure(x, depth + 1));
}

/** A connection failure as DatabaseUnavailableError (the original as its cause); anything else unchanged. */
export function classifyDatabaseError(err: unknown): unknown {
  if (err instanceof DatabaseUnavailableError || !isConnectionFailure(err)) return err;
  // The code only (ECONNREFUSED, 57P01): a driver's or server's message may quote a value.
  const code = (err as { code?: unknown }).code;
  return new DatabaseUnavailableError(`the database is unavailable${typeof code === 'string' ? ` (${code})` : ''}`, { cause: err });
}

/**
 * Whether `err` or anything it wraps (an AuditUnavailableError over a lost connection) comes from
 * the database being away: what a background job asks before it tries again later.
 */
export function fromDatabaseAway(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++, e = (e as { cause?: unknown }).cause) {
    if (isConnectionFailure(e)) return true;
  }
  return false;
}
