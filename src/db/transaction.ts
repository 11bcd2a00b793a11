import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { isPostgres } from './index.js';
import type { DB } from './types.js';

/**
 * A transaction that writes. PostgreSQL: an ordinary one; concurrent writers order
 * themselves on row locks. SQLite: `BEGIN IMMEDIATE`, so the write lock is taken at the
 * start. In-process Kysely already runs one transaction at a time on the one connection;
 * this is for another process on the same file (the CLI, a second server): a deferred
 * transaction that reads and then writes fails at once with SQLITE_BUSY if that process
 * committed in between, while an immediate one waits for it (busy_timeout) and then
 * reads fresh data.
 */
export async function writeTransaction<T>(db: Kysely<DB>, work: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  if (isPostgres(db)) return db.transaction().execute(work);
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await work(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      // SQLite may have rolled back already (then there is no transaction to end).
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw error;
    }
  });
}
