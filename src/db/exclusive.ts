import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { isPostgres } from './index.js';
import type { DB } from './types.js';

/**
 * Runs `work` on one instance at a time: on PostgreSQL under a transaction-scoped advisory
 * lock named after the job (an instance that finds it taken skips this round); on SQLite,
 * where one process owns the file, directly. Returns whether the work ran.
 */
export async function runExclusive(db: Kysely<DB>, name: string, work: (db: Kysely<DB>) => Promise<void>): Promise<boolean> {
  if (!isPostgres(db)) {
    await work(db);
    return true;
  }
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(hashtext(${`lp:${name}`})) as locked`.execute(trx);
    if (!rows[0]?.locked) return false;
    await work(trx);
    return true;
  });
}
