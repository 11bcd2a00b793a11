import { preparedQuery } from '../../db/prepared.js';
import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import { isPostgres } from '../../db/index.js';
import type { DB, ReviewTable } from '../../db/types.js';
import type { Insertable, Updateable } from 'kysely';
import type { OrderTerm, PageRequest } from '../../shared/pagination.js';
import type { DraftScope } from './policy.js';

type Executor = Kysely<DB> | Transaction<DB>;


/**
 * The course row, locked until the transaction ends (PostgreSQL; SQLite runs one
 * transaction at a time). Every review write takes it first, so the recount that follows
 * sees every review committed before it and concurrent writers cannot interleave.
 */
export function lockCourse(db: Executor, courseId: number) {
  const query = db.selectFrom('courses').select(['id', 'instructor_id', 'is_published']).where('id', '=', courseId);
  return (isPostgres(db) ? query.forUpdate() : query).executeTakeFirst();
}

/**
 * reviews_count, rating_sum and average_rating (2 places, null without reviews) recomputed
 * from the course's reviews, found through the (course_id, created_at) index.
 */
export async function refreshCourseRating(db: Executor, courseId: number): Promise<void> {
  const ofCourse = (column: string) => sql.raw(`(select ${column} from reviews where reviews.course_id = courses.id)`);
  await db
    .updateTable('courses')
    .set({
      reviews_count: sql<number>`${ofCourse('count(*)')}`,
      rating_sum: sql<number>`${ofCourse('coalesce(sum(rating), 0)')}`,
      average_rating: sql<number | null>`${ofCourse('round(avg(rating), 2)')}`,
    })
    .where('id', '=', courseId)
    .execute();
}

export function insertReview(db: Executor, review: Insertable<ReviewTable>) {
  return db.insertInto('reviews').values(review).returning('id').executeTakeFirstOrThrow();
}

export function updateReview(db: Executor, id: number, changes: Updateable<ReviewTable>) {
  return db.updateTable('reviews').set(changes).where('id', '=', id).returning('id').executeTakeFirst();
}

export function deleteReview(db: Executor, id: number) {
  return db.deleteFrom('reviews').where('id', '=', id).returning('id').executeTakeFirst();
}

/** Reviews with their author's public fields and their course's visibility facts. */
function reviewsWithAuthor(db: Executor) {
  return db
    .selectFrom('reviews')
    .innerJoin('users', 'users.id', 'reviews.student_id')
    .innerJoin('courses', 'courses.id', 'reviews.course_id')
    .select([
      'reviews.id',
      'reviews.course_id',
      'reviews.student_id',
      'reviews.rating',
      'reviews.comment',
      'reviews.created_at',
      'reviews.updated_at',
      'users.username',
      'users.first_name',
      'users.last_name',
      'users.bio',
      'users.profile_image',
      'courses.instructor_id',
      'courses.is_published',
    ]);
}

export function findById(db: Executor, id: number) {
  return reviewsWithAuthor(db).where('reviews.id', '=', id).executeTakeFirst();
}
export type ReviewWithAuthorRow = NonNullable<Awaited<ReturnType<typeof findById>>>;

export function findByCourseAndStudent(db: Executor, courseId: number, studentId: number) {
  return reviewsWithAuthor(db).where('reviews.course_id', '=', courseId).where('reviews.student_id', '=', studentId).executeTakeFirst();
}

export interface ReviewFilters {
  courseId?: number | undefined;
  rating?: number | undefined;
  studentId?: number | undefined;
}

const publicCount = preparedQuery((db, courseId: number) => reviewsWithAuthor(db).where('courses.is_published', '=', true).where('reviews.course_id', '=', courseId)
  .clearSelect().select((eb) => eb.fn.countAll<number>().as('count')));
const publicPage = preparedQuery((db, courseId: number, limit: number, offset: number) => reviewsWithAuthor(db).where('courses.is_published', '=', true)
  .where('reviews.course_id', '=', courseId).orderBy('reviews.created_at', 'desc').orderBy('reviews.id', 'asc').limit(limit).offset(offset));
export async function listReviews(
  db: Executor,
  drafts: DraftScope,
  filters: ReviewFilters,
  ordering: OrderTerm<'created_at' | 'rating'>[],
  page: PageRequest,
) {
  if (drafts.kind === 'none' && filters.courseId !== undefined && filters.rating === undefined && filters.studentId === undefined
    && ordering.length === 1 && ordering[0]!.column === 'created_at' && ordering[0]!.direction === 'desc') {
    const [{ count }] = (await publicCount(db, filters.courseId)) as [{ count: number }];
    const results = await publicPage(db, filters.courseId, page.limit, page.offset);
    return { count: Number(count), rows: results };
  }
  let query = reviewsWithAuthor(db);
  if (drafts.kind === 'none') query = query.where('courses.is_published', '=', true);
  else if (drafts.kind === 'own') {
    const { instructorId } = drafts;
    query = query.where((eb) => eb.or([eb('courses.is_published', '=', true), eb('courses.instructor_id', '=', instructorId)]));
  }
  if (filters.courseId !== undefined) query = query.where('reviews.course_id', '=', filters.courseId);
  if (filters.rating !== undefined) query = query.where('reviews.rating', '=', filters.rating);
  if (filters.studentId !== undefined) query = query.where('reviews.student_id', '=', filters.studentId);
  const { count } = await query
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  let rows = query;
  for (const term of ordering) rows = rows.orderBy(`reviews.${term.column}`, term.direction);
  const results = await rows.orderBy('reviews.id', 'asc').limit(page.limit).offset(page.offset).execute();
  return { count: Number(count), rows: results };
}
