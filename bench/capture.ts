import { createDatabase } from '../src/db/index.js';
import type { Database } from '../src/db/index.js';

/**
 * A database connection that records the SQL text of every statement it sends, however the
 * query was made (query builder, raw SQL, a precompiled query, inside a transaction or not).
 * The floor copies these statements; the harness test compares the two so they cannot drift.
 */
export interface SqlCapture {
  database: Database;
  /** The statements sent since the last call, in order. */
  take(): string[];
}

export function captureSql(databaseUrl: string): SqlCapture {
  const sent: string[] = [];
  const database = createDatabase(databaseUrl, { observe: (text) => sent.push(text) });
  return { database, take: () => sent.splice(0) };
}
