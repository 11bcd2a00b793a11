import type { Insertable } from 'kysely';
import type { Executor } from '../../db/query.js';
import type { EventTable } from '../../db/types.js';

export async function insertEvent(db: Executor, event: Insertable<EventTable>): Promise<void> {
  await db.insertInto('events').values(event).execute();
}
