import type { Insertable } from 'kysely';
import type { Executor } from '../../db/query.js';
import { listQuery } from '../../db/query.js';
import type { AuditTable } from '../../db/types.js';

/** The only write there is: nothing updates or deletes an entry. */
export async function insertEntry(db: Executor, entry: Insertable<AuditTable>): Promise<void> {
  await db.insertInto('audit_log').values(entry).execute();
}

export interface AuditFilters {
  actorId?: number | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: number | undefined;
  /** Inclusive lower bound, ISO. */
  from?: string | undefined;
  /** Exclusive upper bound, ISO. */
  before?: string | undefined;
}

/** Newest first; ties by ascending id. */
export function listEntries(db: Executor, filters: AuditFilters) {
  let query = db
    .selectFrom('audit_log')
    .leftJoin('users', 'users.id', 'audit_log.actor_id')
    .select([
      'audit_log.id',
      'audit_log.actor_id',
      'audit_log.action',
      'audit_log.target_type',
      'audit_log.target_id',
      'audit_log.data',
      'audit_log.ip',
      'audit_log.request_id',
      'audit_log.created_at',
      'users.username',
      'users.first_name',
      'users.last_name',
      'users.bio',
      'users.profile_image',
    ]);
  if (filters.actorId !== undefined) query = query.where('audit_log.actor_id', '=', filters.actorId);
  if (filters.action !== undefined) query = query.where('audit_log.action', '=', filters.action);
  if (filters.targetType !== undefined) query = query.where('audit_log.target_type', '=', filters.targetType);
  if (filters.targetId !== undefined) query = query.where('audit_log.target_id', '=', filters.targetId);
  if (filters.from !== undefined) query = query.where('audit_log.created_at', '>=', filters.from);
  if (filters.before !== undefined) query = query.where('audit_log.created_at', '<', filters.before);
  return listQuery(query.orderBy('audit_log.created_at', 'desc').orderBy('audit_log.id', 'asc'));
}
export type AuditListRow = Awaited<ReturnType<ReturnType<typeof listEntries>['rows']>>[number];
