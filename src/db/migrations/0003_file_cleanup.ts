import type { Kysely } from 'kysely';
import { columnTypes, withId } from './helpers.js';

/**
 * Stored files to delete, recorded in the transaction that drops their last reference and
 * removed once the files are gone (src/storage/cleanup.ts). A row left by a crash between
 * commit and deletion is finished by the next sweep; `claimed_until` lets one instance of
 * several take a row at a time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);
  await withId(db, db.schema.createTable('file_deletions'))
    .addColumn('key', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('claimed_until', timestamp)
    .execute();
  await db.schema.createIndex('file_deletions_key').on('file_deletions').column('key').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('file_deletions').execute();
}
