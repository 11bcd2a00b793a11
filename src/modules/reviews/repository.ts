import { sql } from 'kysely';
import type { Insertable, Updateable } from 'kysely';
import { preparedList } from '../../db/prepared.js';
import { listQuery } from '../../db/query.js';
import type { Executor } from '../../db/query.js';
import type { ReviewTable } from '../../db/types.js';
import type { OrderTerm } from '../../shared/pagination.js';
import type { DraftScope, HiddenScope } from './policy.js';

export type RatingCounts = [number, number, number, number, number];

/**
 * reviews_count, rating_sum, average_rating (2 places, null without reviews) and the
 * histogram (ratings_1 … ratings_5) recomputed from the course's visible reviews, read from
 * the (course_id, is_hidden, rating) index alone. Run under the course lock.
 */
export async function refreshCourseRating(db: Executor, courseId: number): Promise<void> {
  const rows = await db
    .selectFrom('reviews')
    .select((eb) => ['rating', eb.fn.countAll<number | string>().as('n')])
    .where('course_id', '=', courseId)
    .where('is_hidden', '=', false)
    .groupBy('rating')
    .execute();
  const counts: RatingCounts = [0, 0, 0, 0, 0];
  for (const row of rows) counts[row.rating - 1] = Number(row.n);
  const count = counts.reduce((a, b) => a + b, 0);
  const sum = counts.reduce((total, n, i) => total + n * (i + 1), 0);
  await db
    .updateTable('courses')
    .set({
      reviews_count: count,
      rating_sum: sum,
      // round(avg, 2), half away from zero as SQL's round: sum × 100 ÷ count is exact at a half.
      average_rating: count === 0 ? null : Math.round((sum * 100) / count) / 100,
      ratings_1: counts[0],
      ratings_2: counts[1],
      ratings_3: counts[2],
      ratings_4: counts[3],
      ratings_5: counts[4],
    })
    .where('id', '=', courseId)
    .execute();
}

/** The course's visible reviews per rating (1 … 5), as last recounted; undefined without the course. */
export async function ratingCounts(db: Executor, courseId: number): Promise<RatingCounts | undefined> {
  const row = await db
    .selectFrom('courses')
    .select(['ratings_1', 'ratings_2', 'ratings_3', 'ratings_4', 'ratings_5'])
    .where('id', '=', courseId)
    .executeTakeFirst();
  return row && [row.ratings_1, row.ratings_2, row.ratings_3, row.ratings_4, row.ratings_5];
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

/** Sets is_hidden; the previous value, or undefined when the review is gone. */
export async function setHidden(db: Executor, id: number, hidden: boolean): Promise<boolean | undefined> {
  const before = await db.selectFrom('reviews').select('is_hidden').where('id', '=', id).executeTakeFirst();
  if (!before) return undefined;
  await db.updateTable('reviews').set({ is_hidden: hidden }).where('id', '=', id).execute();
  return before.is_hidden === true || before.is_hidden === 1;
}

/** Creates or replaces the reply: a replacement keeps its created_at. */
export function setReply(db: Executor, id: number, text: string, now: string) {
  return db
    .updateTable('reviews')
    .set({ reply_text: text, reply_created_at: sql<string>`coalesce(reply_created_at, ${now})`, reply_updated_at: now })
    .where('id', '=', id)
    .returning('id')
    .executeTakeFirst();
}

/** True when there was a reply to remove. */
export async function clearReply(db: Executor, id: number): Promise<boolean> {
  const row = await db
    .updateTable('reviews')
    .set({ reply_text: null, reply_created_at: null, reply_updated_at: null })
    .where('id', '=', id)
    .where('reply_text', 'is not', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
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
      'reviews.is_hidden',
      'reviews.reply_text',
      'reviews.reply_created_at',
      'reviews.reply_updated_at',
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

type ReviewOrdering = OrderTerm<'created_at' | 'rating'>[];

/**
 * Reviews of the visible courses, hidden ones only for who may see them, filtered and
 * ordered: one builder, prepared per set of filters and ordering (the ordering and the
 * draft and hidden scopes are the shape; ids and ratings values).
 */
const reviewList = preparedList(
  (
    db,
    shape: { drafts: DraftScope['kind']; hidden: HiddenScope['kind']; ordering: ReviewOrdering },
    values: { instructorId?: number; viewerId?: number; courseId?: number; rating?: number; studentId?: number },
  ) => {
    let query = reviewsWithAuthor(db);
    if (shape.drafts === 'none') query = query.where('courses.is_published', '=', true);
    else if (shape.drafts === 'own' && values.instructorId !== undefined) {
      const { instructorId } = values;
      query = query.where((eb) => eb.or([eb('courses.is_published', '=', true), eb('courses.instructor_id', '=', instructorId)]));
    }
    if (shape.hidden === 'none') query = query.where('reviews.is_hidden', '=', false);
    else if (shape.hidden === 'own' && values.viewerId !== undefined) {
      const { viewerId } = values;
      query = query.where((eb) => eb.or([eb('reviews.is_hidden', '=', false), eb('reviews.student_id', '=', viewerId)]));
    }
    if (values.courseId !== undefined) query = query.where('reviews.course_id', '=', values.courseId);
    if (values.rating !== undefined) query = query.where('reviews.rating', '=', values.rating);
    if (values.studentId !== undefined) query = query.where('reviews.student_id', '=', values.studentId);
    for (const term of shape.ordering) query = query.orderBy(`reviews.${term.column}`, term.direction);
    return query.orderBy('reviews.id', 'asc');
  },
  // Shapes: 3 draft scopes × 3 hidden scopes × 2^3 filter sets × the orderings of two fields.
  { maxShapes: 1024 },
);

export function listReviews(db: Executor, drafts: DraftScope, hidden: HiddenScope, filters: ReviewFilters, ordering: ReviewOrdering) {
  return reviewList(
    db,
    { drafts: drafts.kind, hidden: hidden.kind, ordering },
    {
      instructorId: drafts.kind === 'own' ? drafts.instructorId : undefined,
      viewerId: hidden.kind === 'own' ? hidden.studentId : undefined,
      courseId: filters.courseId,
      rating: filters.rating,
      studentId: filters.studentId,
    },
  );
}

/** Adds the report unless this reporter already reported this review; true when added. */
export async function insertReport(
  db: Executor,
  report: { review_id: number; reporter_id: number; reason: string; created_at: string },
): Promise<boolean> {
  const row = await db
    .insertInto('review_reports')
    .values(report)
    .onConflict((oc) => oc.columns(['review_id', 'reporter_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Marks every open report of the review resolved. */
export async function resolveReports(db: Executor, reviewId: number): Promise<void> {
  await db.updateTable('review_reports').set({ resolved: true }).where('review_id', '=', reviewId).where('resolved', '=', false).execute();
}

function reportsWithReporter(db: Executor) {
  return db
    .selectFrom('review_reports')
    .innerJoin('users', 'users.id', 'review_reports.reporter_id')
    .select([
      'review_reports.id',
      'review_reports.review_id',
      'review_reports.reporter_id',
      'review_reports.reason',
      'review_reports.created_at',
      'review_reports.resolved',
      'users.username',
      'users.first_name',
      'users.last_name',
      'users.bio',
      'users.profile_image',
    ]);
}

export function findReport(db: Executor, reviewId: number, reporterId: number) {
  return reportsWithReporter(db)
    .where('review_reports.review_id', '=', reviewId)
    .where('review_reports.reporter_id', '=', reporterId)
    .executeTakeFirst();
}
export type ReportRow = NonNullable<Awaited<ReturnType<typeof findReport>>>;

/** The report queue, newest first. */
export function listReports(db: Executor, resolved: boolean | undefined) {
  let query = reportsWithReporter(db);
  if (resolved !== undefined) query = query.where('review_reports.resolved', '=', resolved);
  return listQuery(query.orderBy('review_reports.created_at', 'desc').orderBy('review_reports.id', 'asc'));
}
