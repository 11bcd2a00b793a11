import type { Insertable } from 'kysely';
import type { Executor } from '../../db/query.js';
import type { AuditTable } from '../../db/types.js';

export async function insertEntry(db: Executor, entry: Insertable<AuditTable>): Promise<void> {
  await db.insertInto('audit_log').values(entry).execute();
}
