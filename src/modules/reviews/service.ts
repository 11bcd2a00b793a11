import type { Kysely } from 'kysely';
import { isForeignKeyViolation, isUniqueViolation } from '../../db/errors.js';
import type { Executor } from '../../db/query.js';
import { writeTransaction } from '../../db/transaction.js';
import type { DB, ReviewTable } from '../../db/types.js';
import type { Updateable } from 'kysely';
import { conflict, forbidden, invalidField, notFound } from '../../shared/errors.js';
import { pageRequest, paginate, parseOrdering } from '../../shared/pagination.js';
import type { RequestContext, UserContext } from '../../shared/context.js';
import type { Page } from '../../shared/pagination.js';
import { nowIso, toBool, toIso } from '../../shared/time.js';
import { canSeeCourse } from '../courses/policy.js';
import type { Viewer } from '../courses/policy.js';
import type { PublicUser } from '../users/schemas.js';
import { canDeleteReview, canEditReview, draftScope } from './policy.js';
import * as repo from './repository.js';
import type { Review, ReviewChangeInput, ReviewCreateInput, ReviewListQueryInput } from './schemas.js';

/** What this module needs of the courses module. */
export interface CoursesPort {
  findFacts(id: number): Promise<{ instructor_id: number; is_published: boolean } | undefined>;
  lockCourse(trx: Executor, id: number): Promise<unknown>;
}

/** What this module needs of the enrollments module. */
export interface EnrollmentsPort {
  isEnrolled(studentId: number, courseId: number, trx?: Executor): Promise<boolean>;
}

/** What this module needs of the users module. */
export interface UsersPort {
  toPublicUser(ctx: RequestContext, row: { id: number; username: string; first_name: string; last_name: string; bio: string; profile_image: string | null }): PublicUser;
}

export interface ReviewsServiceDeps {
  db: Kysely<DB>;
  courses: () => CoursesPort;
  enrollments: () => EnrollmentsPort;
  users: () => UsersPort;
}

const ALREADY_REVIEWED = 'You have already reviewed this course.';
const courseMissing = (id: number) => invalidField('course', `Invalid pk "${id}" - object does not exist.`);

export type ReviewsService = ReturnType<typeof createReviewsService>;

/**
 * Reviews, and the rating aggregates they feed on `courses`. Every write locks the course
 * row, changes the review and recounts the aggregates in one transaction, so the counters
 * are exact whatever runs beside it.
 */
export function createReviewsService(deps: ReviewsServiceDeps) {
  const { db } = deps;

  const courseFacts = (row: repo.ReviewWithAuthorRow) => ({ instructor_id: row.instructor_id, is_published: toBool(row.is_published) });

  const toReview = (ctx: RequestContext, row: repo.ReviewWithAuthorRow): Review => ({
    id: row.id,
    course: row.course_id,
    student: deps.users().toPublicUser(ctx, { ...row, id: row.student_id }),
    rating: row.rating,
    comment: row.comment,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  });

  /** The review if the caller may see its course, else 404. */
  async function visibleReview(viewer: Viewer, id: number): Promise<repo.ReviewWithAuthorRow> {
    const row = await repo.findById(db, id);
    if (!row || !canSeeCourse(viewer, courseFacts(row))) throw notFound();
    return row;
  }

  async function rendered(ctx: RequestContext, id: number): Promise<Review> {
    const row = await repo.findById(db, id);
    if (!row) throw notFound();
    return toReview(ctx, row);
  }

  return {
    /** Enrolled students only (403 for anyone else, instructors and admins included); one per student and course (409). */
    async create(ctx: UserContext, input: ReviewCreateInput): Promise<Review> {
      const caller = ctx.viewer;
      const course = await deps.courses().findFacts(input.course);
      if (!course || !canSeeCourse(caller, course)) throw courseMissing(input.course);
      let id: number;
      try {
        id = await writeTransaction(db, async (trx) => {
          if (!(await deps.courses().lockCourse(trx, input.course))) throw courseMissing(input.course);
          if (!(await deps.enrollments().isEnrolled(caller.id, input.course, trx))) {
            throw forbidden('Only students enrolled in this course may review it.');
          }
          if (await repo.findByCourseAndStudent(trx, input.course, caller.id)) throw conflict(ALREADY_REVIEWED);
          const now = nowIso();
          const inserted = await repo.insertReview(trx, {
            course_id: input.course,
            student_id: caller.id,
            rating: input.rating,
            comment: input.comment ?? '',
            created_at: now,
            updated_at: now,
          });
          await repo.refreshCourseRating(trx, input.course);
          return inserted.id;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(ALREADY_REVIEWED);
        if (isForeignKeyViolation(error)) throw courseMissing(input.course);
        throw error;
      }
      return rendered(ctx, id);
    },

    async get(ctx: RequestContext, id: number): Promise<Review> {
      return toReview(ctx, await visibleReview(ctx.viewer, id));
    },

    /**
     * Reviews of the courses the caller may see: published ones for everyone, plus their
     * own drafts for an instructor and every draft for an admin (the course policy's rule).
     */
    async list(ctx: RequestContext, query: ReviewListQueryInput): Promise<Page<Review>> {
      const page = pageRequest(query);
      const ordering = parseOrdering(query.ordering, { created_at: 'created_at', rating: 'rating' } as const, '-created_at');
      const filters = { courseId: query.course, rating: query.rating, studentId: query.student };
      return paginate(ctx, page, repo.listReviews(db, draftScope(ctx.viewer), filters, ordering), (rows) => rows.map((row) => toReview(ctx, row)));
    },

    /** The author edits (admins moderate by deleting); the course cannot change. */
    async change(ctx: UserContext, id: number, input: ReviewChangeInput): Promise<Review> {
      const caller = ctx.viewer;
      const row = await visibleReview(caller, id);
      if (!canEditReview(caller, row)) throw forbidden('Only the author of a review may edit it.');
      if (input.course !== undefined && input.course !== row.course_id) {
        throw invalidField('course', 'The course of a review cannot change.');
      }
      const changes: Updateable<ReviewTable> = { updated_at: nowIso() };
      if (input.rating !== undefined) changes.rating = input.rating;
      if (input.comment !== undefined) changes.comment = input.comment;
      await writeTransaction(db, async (trx) => {
        await deps.courses().lockCourse(trx, row.course_id);
        if (!(await repo.updateReview(trx, id, changes))) throw notFound();
        if (input.rating !== undefined) await repo.refreshCourseRating(trx, row.course_id);
      });
      return rendered(ctx, id);
    },

    /** The author or an admin. */
    async remove(ctx: UserContext, id: number): Promise<void> {
      const caller = ctx.viewer;
      const row = await visibleReview(caller, id);
      if (!canDeleteReview(caller, row)) {
        throw forbidden('Only the author of a review or an admin may delete it.');
      }
      await writeTransaction(db, async (trx) => {
        await deps.courses().lockCourse(trx, row.course_id);
        if (!(await repo.deleteReview(trx, id))) throw notFound();
        await repo.refreshCourseRating(trx, row.course_id);
      });
    },
  };
}
