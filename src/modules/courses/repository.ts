import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';

type Executor = Kysely<DB> | Transaction<DB>;

/** A course row with its category and public instructor: everything a list item shows, in one join. */
function itemQuery(db: Executor) {
  return db
    .selectFrom('courses as c')
    .innerJoin('categories as cat', 'cat.id', 'c.category_id')
    .innerJoin('users as u', 'u.id', 'c.instructor_id')
    .select([
      'c.id',
      'c.title',
      'c.description',
      'c.price_cents',
      'c.thumbnail',
      'c.is_published',
      'c.average_rating',
      'c.reviews_count',
      'c.students_count',
      'c.lessons_count',
      'c.total_duration',
      'c.created_at',
      'c.updated_at',
      'c.category_id',
      'cat.name as category_name',
      'cat.slug as category_slug',
      'c.instructor_id',
      'u.username as instructor_username',
      'u.first_name as instructor_first_name',
      'u.last_name as instructor_last_name',
      'u.bio as instructor_bio',
      'u.profile_image as instructor_profile_image',
    ]);
}

export type CourseItemRow = Awaited<ReturnType<ReturnType<typeof itemQuery>['executeTakeFirstOrThrow']>>;

export function findItem(db: Executor, id: number) {
  return itemQuery(db).where('c.id', '=', id).executeTakeFirst();
}

/** In no particular order; the caller orders. */
export function itemsByIds(db: Executor, ids: readonly number[]) {
  return ids.length === 0 ? Promise.resolve([]) : itemQuery(db).where('c.id', 'in', ids).execute();
}

const factColumns = ['id', 'title', 'instructor_id', 'category_id', 'is_published', 'thumbnail', 'students_count'] as const;

export function findFacts(db: Executor, id: number) {
  return db.selectFrom('courses').select(factColumns).where('id', '=', id).executeTakeFirst();
}
