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
