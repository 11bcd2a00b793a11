import { sql } from 'kysely';
import type { Insertable, Updateable } from 'kysely';
import { preparedList } from '../../db/prepared.js';
import type { Executor } from '../../db/query.js';
import type { ReviewTable } from '../../db/types.js';
import type { OrderTerm } from '../../shared/pagination.js';
import type { DraftScope } from './policy.js';

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

type ReviewOrdering = OrderTerm<'created_at' | 'rating'>[];

/**
 * Reviews of the visible courses, filtered and ordered: one builder, prepared per set of
 * filters and ordering (the ordering and draft scope are the shape; ids and ratings values).
 */
const reviewList = preparedList(
  (db, shape: { drafts: DraftScope['kind']; ordering: ReviewOrdering }, values: { instructorId?: number; courseId?: number; rating?: number; studentId?: number }) => {
    let query = reviewsWithAuthor(db);
    if (shape.drafts === 'none') query = query.where('courses.is_published', '=', true);
    else if (shape.drafts === 'own' && values.instructorId !== undefined) {
      const { instructorId } = values;
      query = query.where((eb) => eb.or([eb('courses.is_published', '=', true), eb('courses.instructor_id', '=', instructorId)]));
    }
    if (values.courseId !== undefined) query = query.where('reviews.course_id', '=', values.courseId);
    if (values.rating !== undefined) query = query.where('reviews.rating', '=', values.rating);
    if (values.studentId !== undefined) query = query.where('reviews.student_id', '=', values.studentId);
    for (const term of shape.ordering) query = query.orderBy(`reviews.${term.column}`, term.direction);
    return query.orderBy('reviews.id', 'asc');
  },
  // Shapes: 3 scopes × 2^3 filter sets × the orderings of two fields.
  { maxShapes: 512 },
);

export function listReviews(db: Executor, drafts: DraftScope, filters: ReviewFilters, ordering: ReviewOrdering) {
  return reviewList(db, { drafts: drafts.kind, ordering }, {
    instructorId: drafts.kind === 'own' ? drafts.instructorId : undefined,
    courseId: filters.courseId,
    rating: filters.rating,
    studentId: filters.studentId,
  });
}
