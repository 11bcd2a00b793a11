import { sql } from 'kysely';
import { listQuery } from '../../db/query.js';
import type { Executor } from '../../db/query.js';
import type { InstructorStatus, NewUser, Role, UserUpdate } from '../../db/types.js';
import type { OrderTerm } from '../../shared/pagination.js';
import { caseKey } from '../../shared/text-key.js';

export function findById(db: Executor, id: number) {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The user with this email, or with this username, ignoring case (by key). */
export function findByLogin(db: Executor, identifier: string, as: 'email' | 'username') {
  return db
    .selectFrom('users')
    .selectAll()
    .where(as === 'email' ? 'email_key' : 'username_key', '=', caseKey(identifier))
    .executeTakeFirst();
}

export async function usernameTaken(db: Executor, username: string, exceptId?: number) {
  let query = db.selectFrom('users').select('id').where('username_key', '=', caseKey(username));
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

export async function emailTaken(db: Executor, email: string, exceptId?: number) {
  let query = db.selectFrom('users').select('id').where('email_key', '=', caseKey(email));
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

/** The case keys are derived here, from the names they stand for, so no writer can forget them. */
export function insertUser(db: Executor, user: Omit<NewUser, 'username_key' | 'email_key'>) {
  return db
    .insertInto('users')
    .values({ ...user, username_key: caseKey(user.username), email_key: caseKey(user.email) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Nothing to change is no statement: the row as it is (an UPDATE with an empty SET is invalid SQL). */
export function updateUser(db: Executor, id: number, changes: Omit<UserUpdate, 'username_key' | 'email_key'>) {
  const keyed: UserUpdate = { ...changes };
  if (changes.username !== undefined) keyed.username_key = caseKey(changes.username);
  if (changes.email !== undefined) keyed.email_key = caseKey(changes.email);
  if (Object.keys(keyed).length === 0) return findById(db, id);
  return db.updateTable('users').set(keyed).where('id', '=', id).returningAll().executeTakeFirst();
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
    const pattern = `%${caseKey(term).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        eb('username_key', 'like', sql<string>`${pattern} escape '\\'`),
        eb('email_key', 'like', sql<string>`${pattern} escape '\\'`),
      ]),
    );
  }
  let rows = query.selectAll();
  for (const term of ordering) {
    rows = term.column === 'username' ? rows.orderBy('username_key', term.direction) : rows.orderBy(term.column, term.direction);
  }
  return listQuery(rows.orderBy('id', 'asc'));
}
