/**
 * Constraint violations, told apart by the codes both drivers give: better-sqlite3 sets
 * `code` to SQLITE_CONSTRAINT_*, pg to the SQLSTATE. Services catch these to turn a race
 * lost at the database (a duplicate insert, a parent deleted meanwhile) into a 409 or 404.
 */
function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  const code = codeOf(error);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function isForeignKeyViolation(error: unknown): boolean {
  const code = codeOf(error);
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** Network failures of the connection itself, as Node reports them. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/**
 * SQLSTATEs of a server that cannot serve now: admin_shutdown, crash_shutdown,
 * cannot_connect_now, too_many_connections; and class 08 (connection exception).
 * SQLite's SQLITE_BUSY: another writer held the file past busy_timeout.
 */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', 'SQLITE_BUSY']);
/** pg's own errors for a lost or unobtainable connection carry no code, only these messages. */
const CONNECTION_MESSAGES =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed and is not queryable)/;

/**
 * The database cannot be reached or cannot serve now (not a fault of the request): the
 * caller may retry. The error plugin answers these with 503 instead of 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  return error instanceof Error && CONNECTION_MESSAGES.test(error.message);
}
