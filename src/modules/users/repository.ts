import { sql } from 'kysely';
import { listQuery } from '../../db/query.js';
import type { Executor } from '../../db/query.js';
import type { InstructorStatus, NewUser, Role, UserUpdate } from '../../db/types.js';
import type { OrderTerm } from '../../shared/pagination.js';

export function findById(db: Executor, id: number) {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** By username or email, ignoring case; a username match wins over another user's email. */
export async function findByLogin(db: Executor, identifier: string) {
  const lowered = identifier.toLowerCase();
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb.or([eb(sql`lower(username)`, '=', lowered), eb(sql`lower(email)`, '=', lowered)]))
    .limit(2)
    .execute();
  return rows.find((r) => r.username.toLowerCase() === lowered) ?? rows[0];
}

export async function usernameTaken(db: Executor, username: string, exceptId?: number) {
  let query = db.selectFrom('users').select('id').where(sql`lower(username)`, '=', username.toLowerCase());
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

export async function emailTaken(db: Executor, email: string, exceptId?: number) {
  let query = db.selectFrom('users').select('id').where(sql`lower(email)`, '=', email.toLowerCase());
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

export function insertUser(db: Executor, user: NewUser) {
  return db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow();
}

export function updateUser(db: Executor, id: number, changes: UserUpdate) {
  return db.updateTable('users').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
}

export interface UserFilters {
  role?: Role | undefined;
  instructorStatus?: InstructorStatus | undefined;
  isActive?: boolean | undefined;
  search?: string | undefined;
}

export function listUsers(db: Executor, filters: UserFilters, ordering: OrderTerm<'date_joined' | 'username'>[]) {
  let query = db.selectFrom('users');
  if (filters.role) query = query.where('role', '=', filters.role);
  if (filters.instructorStatus) query = query.where('instructor_status', '=', filters.instructorStatus);
  if (filters.isActive !== undefined) query = query.where('is_active', '=', filters.isActive);
  for (const term of (filters.search ?? '').split(/\s+/).filter(Boolean)) {
    const pattern = `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        eb(sql`lower(username)`, 'like', sql`${pattern} escape '\\'`),
        eb(sql`lower(email)`, 'like', sql`${pattern} escape '\\'`),
      ]),
    );
  }
  let rows = query.selectAll();
  for (const term of ordering) {
    rows = term.column === 'username'
      ? rows.orderBy(sql`lower(username)`, term.direction)
      : rows.orderBy(term.column, term.direction);
  }
  return listQuery(rows.orderBy('id', 'asc'));
}
