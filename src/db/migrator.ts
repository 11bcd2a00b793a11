import { Migrator } from 'kysely';
import type { Kysely, MigrationResultSet } from 'kysely';
import { migrations } from './migrations/index.js';
import type { DB } from './types.js';

/**
 * The one migrator. Migrations of features developed side by side may be applied in another
 * order than their names sort (a database that ran 0009 before 0004 landed): each migration
 * here creates its own tables and columns, so the missing ones are applied where they are
 * missing instead of refusing the database.
 */
export function createMigrator(db: Kysely<DB>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true });
}

export async function migrateToLatest(db: Kysely<DB>): Promise<MigrationResultSet> {
  const migrator = createMigrator(db);
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error instanceof Error ? result.error : new Error(`migration failed: ${JSON.stringify(result.error)}`);
  return result;
}
