import { sql } from 'kysely';
import type { Insertable, Updateable } from 'kysely';
import { listQuery } from '../../db/query.js';
import type { Executor } from '../../db/query.js';
import type { CategoryTable } from '../../db/types.js';
import { caseKey } from '../../shared/text-key.js';

export function findById(db: Executor, id: number) {
  return db.selectFrom('categories').selectAll().where('id', '=', id).executeTakeFirst();
}

/** By id (when the reference is a number), slug, or name ignoring case; an id wins, then a slug. */
export async function findByReference(db: Executor, reference: string) {
  const lowered = reference.toLowerCase();
  const id = /^\d{1,9}$/.test(reference) ? Number(reference) : null;
  const rows = await db
    .selectFrom('categories')
    .selectAll()
    .where((eb) => eb.or([...(id === null ? [] : [eb('id', '=', id)]), eb('slug', '=', lowered), eb('name_key', '=', caseKey(reference))]))
    .limit(3)
    .execute();
  return rows.find((r) => r.id === id) ?? rows.find((r) => r.slug === lowered) ?? rows[0];
}

export async function nameTaken(db: Executor, name: string, exceptId?: number) {
  let query = db.selectFrom('categories').select('id').where('name_key', '=', caseKey(name));
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

/** Slugs starting with base: base itself and its numbered variants. */
export async function slugsLike(db: Executor, base: string, exceptId?: number) {
  let query = db
    .selectFrom('categories')
    .select('slug')
    .where((eb) => eb.or([eb('slug', '=', base), eb('slug', 'like', `${base}-%`)]));
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  return (await query.execute()).map((r) => r.slug);
}

export function listCategories(db: Executor) {
  return listQuery(
    db
      .selectFrom('categories')
      .selectAll()
      .orderBy(sql`lower(name)`, 'asc')
      .orderBy('id', 'asc'),
  );
}

/** The name's case key is derived here, so no writer can forget it. */
export function insertCategory(db: Executor, values: Omit<Insertable<CategoryTable>, 'name_key'>) {
  return db
    .insertInto('categories')
    .values({ ...values, name_key: caseKey(values.name) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function updateCategory(db: Executor, id: number, changes: Omit<Updateable<CategoryTable>, 'name_key'>) {
  const keyed: Updateable<CategoryTable> = changes.name === undefined ? changes : { ...changes, name_key: caseKey(changes.name) };
  if (Object.keys(keyed).length === 0) return findById(db, id);
  return db.updateTable('categories').set(keyed).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function hasCourses(db: Executor, id: number) {
  return (await db.selectFrom('courses').select('id').where('category_id', '=', id).limit(1).executeTakeFirst()) !== undefined;
}

export function deleteCategory(db: Executor, id: number) {
  return db.deleteFrom('categories').where('id', '=', id).executeTakeFirst();
}
