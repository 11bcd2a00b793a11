import type { Kysely, Transaction } from 'kysely';
import type { Insertable } from 'kysely';
import type { DB, SessionTable } from '../../db/types.js';

type Executor = Kysely<DB> | Transaction<DB>;

export function insertSession(db: Executor, row: Insertable<SessionTable>) {
  return db.insertInto('sessions').values(row).execute();
}

export function findSession(db: Executor, id: string) {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Moves the chain on only if `jti` is still its head, so two racing refreshes cannot both win. */
export async function rotateRefresh(db: Executor, id: string, fromJti: string, toJti: string, expiresAt: string) {
  const result = await db
    .updateTable('sessions')
    .set({ refresh_jti: toJti, expires_at: expiresAt })
    .where('id', '=', id)
    .where('refresh_jti', '=', fromJti)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function revokeSessions(
  db: Executor,
  filter: { id: string } | { userId: number; exceptId?: string | undefined },
  at: string,
): Promise<string[]> {
  let query = db.updateTable('sessions').set({ revoked_at: at }).where('revoked_at', 'is', null);
  if ('id' in filter) {
    query = query.where('id', '=', filter.id);
  } else {
    query = query.where('user_id', '=', filter.userId);
    if (filter.exceptId) query = query.where('id', '!=', filter.exceptId);
  }
  const rows = await query.returning('id').execute();
  return rows.map((r) => r.id);
}

export async function sessionsRevokedSince(db: Executor, since: string): Promise<string[]> {
  const rows = await db.selectFrom('sessions').select('id').where('revoked_at', '>', since).execute();
  return rows.map((r) => r.id);
}

export function deleteExpiredSessions(db: Executor, before: string) {
  return db.deleteFrom('sessions').where('expires_at', '<', before).execute();
}
