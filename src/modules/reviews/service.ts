import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Services } from '../../app.js';
import { isForeignKeyViolation, isUniqueViolation } from '../../db/errors.js';
import { writeTransaction } from '../../db/transaction.js';
import type { DB, ReviewTable } from '../../db/types.js';
import type { Updateable } from 'kysely';
import { conflict, forbidden, invalidField, notFound } from '../../shared/errors.js';
import { buildPage, pageRequest, parseOrdering } from '../../shared/pagination.js';
import type { Page } from '../../shared/pagination.js';
import { nowIso, toBool, toIso } from '../../shared/time.js';
import { originOf } from '../../shared/urls.js';
import type { AuthUser } from '../auth/service.js';
import { canSeeCourse } from '../courses/policy.js';
import type { Viewer } from '../courses/policy.js';
import { canDeleteReview, canEditReview, draftScope } from './policy.js';
import * as repo from './repository.js';
import type { Review, ReviewChangeInput, ReviewCreateInput, ReviewListQueryInput } from './schemas.js';

export interface ReviewsServiceDeps {
  db: Kysely<DB>;
  /** Courses, enrollments and users are asked through their services, looked up at call time. */
  services: Services;
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
  const { db, services } = deps;

  const courseFacts = (row: repo.ReviewWithAuthorRow) => ({ instructor_id: row.instructor_id, is_published: toBool(row.is_published) });

  const toReview = (row: repo.ReviewWithAuthorRow, origin: string): Review => ({
    id: row.id,
    course: row.course_id,
    student: services.users.toPublicUser({ ...row, id: row.student_id }, origin),
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

  async function rendered(id: number, origin: string): Promise<Review> {
    const row = await repo.findById(db, id);
    if (!row) throw notFound();
    return toReview(row, origin);
  }

  return {
    /** Enrolled students only (403 for anyone else, instructors and admins included); one per student and course (409). */
    async create(caller: AuthUser, input: ReviewCreateInput, origin: string): Promise<Review> {
      const course = await services.courses.findFacts(input.course);
      if (!course || !canSeeCourse(caller, course)) throw courseMissing(input.course);
      let id: number;
      try {
        id = await writeTransaction(db, async (trx) => {
          if (!(await repo.lockCourse(trx, input.course))) throw courseMissing(input.course);
          if (!(await services.enrollments.isEnrolled(caller.id, input.course, trx))) {
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
      return rendered(id, origin);
    },

    async get(viewer: Viewer, id: number, origin: string): Promise<Review> {
      return toReview(await visibleReview(viewer, id), origin);
    },

    /**
     * Reviews of the courses the caller may see: published ones for everyone, plus their
     * own drafts for an instructor and every draft for an admin (the course policy's rule).
     */
    async list(request: FastifyRequest, viewer: Viewer, query: ReviewListQueryInput): Promise<Page<Review>> {
      const page = pageRequest(query);
      const ordering = parseOrdering(query.ordering, { created_at: 'created_at', rating: 'rating' } as const, '-created_at');
      const { count, rows } = await repo.listReviews(
        db,
        draftScope(viewer),
        { courseId: query.course, rating: query.rating, studentId: query.student },
        ordering,
        page,
      );
      const origin = originOf(request);
      return buildPage(request, page, count, rows.map((row) => toReview(row, origin)));
    },

    /** The author edits (admins moderate by deleting); the course cannot change. */
    async change(caller: AuthUser, id: number, input: ReviewChangeInput, origin: string): Promise<Review> {
      const row = await visibleReview(caller, id);
      if (!canEditReview(caller, row)) throw forbidden('Only the author of a review may edit it.');
      if (input.course !== undefined && input.course !== row.course_id) {
        throw invalidField('course', 'The course of a review cannot change.');
      }
      const changes: Updateable<ReviewTable> = { updated_at: nowIso() };
      if (input.rating !== undefined) changes.rating = input.rating;
      if (input.comment !== undefined) changes.comment = input.comment;
      await writeTransaction(db, async (trx) => {
        await repo.lockCourse(trx, row.course_id);
        if (!(await repo.updateReview(trx, id, changes))) throw notFound();
        if (input.rating !== undefined) await repo.refreshCourseRating(trx, row.course_id);
      });
      return rendered(id, origin);
    },

    /** The author or an admin. */
    async remove(caller: AuthUser, id: number): Promise<void> {
      const row = await visibleReview(caller, id);
      if (!canDeleteReview(caller, row)) {
        throw forbidden('Only the author of a review or an admin may delete it.');
      }
      await writeTransaction(db, async (trx) => {
        await repo.lockCourse(trx, row.course_id);
        if (!(await repo.deleteReview(trx, id))) throw notFound();
        await repo.refreshCourseRating(trx, row.course_id);
      });
    },
  };
}
