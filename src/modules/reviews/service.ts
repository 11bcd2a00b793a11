import type { Kysely, Updateable } from 'kysely';
import { isForeignKeyViolation, isUniqueViolation } from '../../db/errors.js';
import type { Executor } from '../../db/query.js';
import { writeTransaction } from '../../db/transaction.js';
import type { DB, ReviewTable } from '../../db/types.js';
import { FieldErrorCollector, conflict, forbidden, invalidField, notFound } from '../../shared/errors.js';
import { pageRequest, paginate, parseOrdering } from '../../shared/pagination.js';
import type { RequestContext, UserContext } from '../../shared/context.js';
import type { Page } from '../../shared/pagination.js';
import { nowIso, toBool, toIso } from '../../shared/time.js';
import { canSeeCourse, isAdmin } from '../courses/policy.js';
import type { Viewer } from '../courses/policy.js';
import type { AuditEntry } from '../audit/service.js';
import type { DomainEvent } from '../events/service.js';
import type { PublicUser } from '../users/schemas.js';
import {
  canDeleteReply,
  canDeleteReview,
  canEditReview,
  canReply,
  canReport,
  canSeeReviewOfVisibleCourse,
  draftScope,
  hiddenScope,
  seesHiddenFlag,
} from './policy.js';
import * as repo from './repository.js';
import { MAX_REASON_LENGTH, MAX_REPLY_LENGTH } from './schemas.js';
import type {
  RatingHistogram,
  Review,
  ReviewChangeInput,
  ReviewCreateInput,
  ReviewListQueryInput,
  ReviewReplyInput,
  ReviewReport,
  ReviewReportInput,
  ReviewReportListQueryInput,
} from './schemas.js';

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
  toPublicUser(
    ctx: RequestContext,
    row: { id: number; username: string; first_name: string; last_name: string; bio: string; profile_image: string | null },
  ): PublicUser;
}

export interface ReviewsServiceDeps {
  db: Kysely<DB>;
  events: { record(trx: Executor, event: DomainEvent): Promise<unknown> };
  audit: { record(trx: Executor, ctx: RequestContext, entry: AuditEntry): Promise<void> };
  courses: () => CoursesPort;
  enrollments: () => EnrollmentsPort;
  users: () => UsersPort;
}

const ALREADY_REVIEWED = 'You have already reviewed this course.';
const BLANK = 'This field may not be blank.';
const NUL = 'Null characters are not allowed.';
const courseMissing = (id: number) => invalidField('course', `Invalid pk "${id}" - object does not exist.`);

/** A required text field, trimmed as DRF's CharField does: 1 to max characters, no NUL. */
function requiredText(field: string, raw: string, max: number): string {
  const errors = new FieldErrorCollector();
  const text = raw.trim();
  if (raw.includes('\u0000')) errors.add(field, NUL);
  else if (text === '') errors.add(field, BLANK);
  else if (text.length > max) errors.add(field, `Ensure this field has no more than ${max} characters.`);
  errors.throwIfAny();
  return text;
}

function parseFlag(field: string, raw: string | undefined): boolean | undefined {
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === '') return undefined;
  if (['true', '1', 'on'].includes(value)) return true;
  if (['false', '0', 'off'].includes(value)) return false;
  throw invalidField(field, 'Must be a valid boolean.');
}

export const histogramOf = (counts: repo.RatingCounts): RatingHistogram => ({
  1: counts[0],
  2: counts[1],
  3: counts[2],
  4: counts[3],
  5: counts[4],
});

export type ReviewsService = ReturnType<typeof createReviewsService>;

/**
 * Reviews, their replies and reports, and the rating aggregates they feed on `courses`.
 * Every write that changes what counts (a review, its rating, its hidden flag) locks the
 * course row, changes the review and recounts the aggregates in one transaction, so the
 * counters are exact whatever runs beside it.
 */
export function createReviewsService(deps: ReviewsServiceDeps) {
  const { db } = deps;

  const courseFacts = (row: repo.ReviewWithAuthorRow) => ({ instructor_id: row.instructor_id, is_published: toBool(row.is_published) });
  const hiddenFacts = (row: repo.ReviewWithAuthorRow) => ({ student_id: row.student_id, is_hidden: toBool(row.is_hidden) });

  const toReview = (ctx: RequestContext, row: repo.ReviewWithAuthorRow): Review => {
    const review: Review = {
      id: row.id,
      course: row.course_id,
      student: deps.users().toPublicUser(ctx, { ...row, id: row.student_id }),
      rating: row.rating,
      comment: row.comment,
      created_at: toIso(row.created_at),
      updated_at: toIso(row.updated_at),
      reply:
        row.reply_text === null || row.reply_created_at === null || row.reply_updated_at === null
          ? null
          : { text: row.reply_text, created_at: toIso(row.reply_created_at), updated_at: toIso(row.reply_updated_at) },
    };
    if (seesHiddenFlag(ctx.viewer, row)) review.is_hidden = toBool(row.is_hidden);
    return review;
  };

  const toReport = (ctx: RequestContext, row: repo.ReportRow): ReviewReport => ({
    id: row.id,
    review: row.review_id,
    reporter: deps.users().toPublicUser(ctx, { ...row, id: row.reporter_id }),
    reason: row.reason,
    created_at: toIso(row.created_at),
    resolved: toBool(row.resolved),
  });

  const eventData = (row: { id: number; course_id: number; student_id: number; rating: number }) => ({
    id: row.id,
    course: row.course_id,
    student: row.student_id,
    rating: row.rating,
  });

  /** The review if the caller may see it (its course visible; if hidden, the author or an admin), else 404. */
  async function visibleReview(viewer: Viewer, id: number): Promise<repo.ReviewWithAuthorRow> {
    const row = await repo.findById(db, id);
    if (!row || !canSeeCourse(viewer, courseFacts(row)) || !canSeeReviewOfVisibleCourse(viewer, hiddenFacts(row))) throw notFound();
    return row;
  }

  /** The review if the caller may edit it (its author): 404 when they cannot see it, else 403. */
  async function editableReview(caller: Viewer, id: number): Promise<repo.ReviewWithAuthorRow> {
    const row = await visibleReview(caller, id);
    if (!canEditReview(caller, row)) throw forbidden('Only the author of a review may edit it.');
    return row;
  }

  /** The review if the caller may reply to it (the course's instructor). */
  async function repliableReview(caller: Viewer, id: number): Promise<repo.ReviewWithAuthorRow> {
    const row = await visibleReview(caller, id);
    if (!canReply(caller, courseFacts(row))) throw forbidden("Only the course's instructor may reply to its reviews.", 'not_course_owner');
    return row;
  }

  /** The review if the caller may report it (anyone who sees it but its author). */
  async function reportableReview(caller: Viewer, id: number): Promise<repo.ReviewWithAuthorRow> {
    const row = await visibleReview(caller, id);
    if (!canReport(caller, row)) throw forbidden('You cannot report your own review.', 'own_review');
    return row;
  }

  async function rendered(ctx: RequestContext, id: number): Promise<Review> {
    const row = await repo.findById(db, id);
    if (!row) throw notFound();
    return toReview(ctx, row);
  }

  /** Hides or shows a review (admins): the flag, its reports and the course's aggregates in one transaction. */
  async function setHidden(ctx: UserContext, id: number, hidden: boolean): Promise<Review> {
    const row = await repo.findById(db, id);
    if (!row) throw notFound();
    await writeTransaction(db, async (trx) => {
      await deps.courses().lockCourse(trx, row.course_id);
      const before = await repo.setHidden(trx, id, hidden);
      if (before === undefined) throw notFound();
      if (hidden) await repo.resolveReports(trx, id);
      if (before === hidden) return;
      await repo.refreshCourseRating(trx, row.course_id);
      await deps.audit.record(trx, ctx, {
        action: hidden ? 'review.hidden' : 'review.unhidden',
        target: { type: 'review', id },
        data: { course: row.course_id, student: row.student_id },
      });
    });
    return rendered(ctx, id);
  }

  return {
    /** Refuses a caller who may not edit the review (404 or 403), before the body is read. */
    async checkChange(ctx: UserContext, id: number): Promise<void> {
      await editableReview(ctx.viewer, id);
    },

    /** Refuses a caller who may not report the review (404 or 403), before the body is read. */
    async checkReport(ctx: UserContext, id: number): Promise<void> {
      await reportableReview(ctx.viewer, id);
    },

    /** Refuses a caller who may not reply to the review (404 or 403), before the body is read. */
    async checkReply(ctx: UserContext, id: number): Promise<void> {
      await repliableReview(ctx.viewer, id);
    },

    /** Enrolled students only (403 for anyone else, instructors and admins included); one per student and course (409). */
    async create(ctx: UserContext, input: ReviewCreateInput): Promise<Review> {
      const caller = ctx.viewer;
      const course = await deps.courses().findFacts(input.course);
      if (!course || !canSeeCourse(caller, course)) throw courseMissing(input.course);
      if (input.comment?.includes('\u0000')) throw invalidField('comment', NUL);
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
          await deps.events.record(trx, {
            type: 'review.created',
            courseId: input.course,
            data: eventData({ id: inserted.id, course_id: input.course, student_id: caller.id, rating: input.rating }),
          });
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
     * own drafts for an instructor and every draft for an admin (the course policy's rule);
     * hidden reviews only for their author and admins.
     */
    async list(ctx: RequestContext, query: ReviewListQueryInput): Promise<Page<Review>> {
      const page = pageRequest(query);
      const ordering = parseOrdering(query.ordering, { created_at: 'created_at', rating: 'rating' } as const, '-created_at');
      const filters = { courseId: query.course, rating: query.rating, studentId: query.student };
      const list = repo.listReviews(db, draftScope(ctx.viewer), hiddenScope(ctx.viewer), filters, ordering);
      return paginate(ctx, page, list, (rows) => rows.map((row) => toReview(ctx, row)));
    },

    /** The author edits (admins moderate by hiding or deleting); the course cannot change; a hidden review stays hidden. */
    async change(ctx: UserContext, id: number, input: ReviewChangeInput): Promise<Review> {
      const caller = ctx.viewer;
      const row = await editableReview(caller, id);
      if (input.course !== undefined && input.course !== row.course_id) {
        throw invalidField('course', 'The course of a review cannot change.');
      }
      if (input.comment?.includes('\u0000')) throw invalidField('comment', NUL);
      const changes: Updateable<ReviewTable> = { updated_at: nowIso() };
      if (input.rating !== undefined) changes.rating = input.rating;
      if (input.comment !== undefined) changes.comment = input.comment;
      await writeTransaction(db, async (trx) => {
        await deps.courses().lockCourse(trx, row.course_id);
        if (!(await repo.updateReview(trx, id, changes))) throw notFound();
        if (input.rating !== undefined) await repo.refreshCourseRating(trx, row.course_id);
        await deps.events.record(trx, {
          type: 'review.updated',
          courseId: row.course_id,
          data: eventData({ ...row, rating: input.rating ?? row.rating }),
        });
      });
      return rendered(ctx, id);
    },

    /** The author or an admin (an admin's deletion is audited). */
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
        await deps.events.record(trx, { type: 'review.deleted', courseId: row.course_id, data: eventData(row) });
        if (isAdmin(caller) && !canEditReview(caller, row)) {
          await deps.audit.record(trx, ctx, {
            action: 'review.deleted',
            target: { type: 'review', id },
            data: { course: row.course_id, student: row.student_id, rating: row.rating },
          });
        }
      });
    },

    /** The course's owner: creates the reply or replaces its text (created_at kept). */
    async reply(ctx: UserContext, id: number, input: ReviewReplyInput): Promise<Review> {
      const caller = ctx.viewer;
      const row = await repliableReview(caller, id);
      const text = requiredText('text', input.text, MAX_REPLY_LENGTH);
      await writeTransaction(db, async (trx) => {
        await deps.courses().lockCourse(trx, row.course_id);
        if (!(await repo.setReply(trx, id, text, nowIso()))) throw notFound();
      });
      return rendered(ctx, id);
    },

    /** The course's owner or an admin; 404 when there is no reply. */
    async removeReply(ctx: UserContext, id: number): Promise<void> {
      const caller = ctx.viewer;
      const row = await visibleReview(caller, id);
      if (!canDeleteReply(caller, courseFacts(row)))
        throw forbidden("Only the course's instructor or an admin may delete a reply.", 'not_course_owner');
      await writeTransaction(db, async (trx) => {
        await deps.courses().lockCourse(trx, row.course_id);
        if (!(await repo.clearReply(trx, id))) throw notFound();
      });
    },

    /** Anyone signed in but the author; a second report by the same user changes nothing. */
    async report(ctx: UserContext, id: number, input: ReviewReportInput): Promise<ReviewReport> {
      const caller = ctx.viewer;
      await reportableReview(caller, id);
      const reason = requiredText('reason', input.reason, MAX_REASON_LENGTH);
      try {
        await repo.insertReport(db, { review_id: id, reporter_id: caller.id, reason, created_at: nowIso() });
      } catch (error) {
        // The review was deleted meanwhile.
        if (isForeignKeyViolation(error)) throw notFound();
        throw error;
      }
      const report = await repo.findReport(db, id, caller.id);
      if (!report) throw notFound();
      return toReport(ctx, report);
    },

    /** The report queue (admins; the route says so), newest first, optionally by `resolved`. */
    async listReports(ctx: RequestContext, query: ReviewReportListQueryInput): Promise<Page<ReviewReport>> {
      const page = pageRequest(query);
      const resolved = parseFlag('resolved', query.resolved);
      return paginate(ctx, page, repo.listReports(db, resolved), (rows) => rows.map((row) => toReport(ctx, row)));
    },

    hide: (ctx: UserContext, id: number) => setHidden(ctx, id, true),
    unhide: (ctx: UserContext, id: number) => setHidden(ctx, id, false),

    /** Visible reviews per rating of a course, as its aggregates say now; zeros for an unknown course. */
    async ratingHistogram(courseId: number, trx: Executor = db): Promise<RatingHistogram> {
      return histogramOf((await repo.ratingCounts(trx, courseId)) ?? [0, 0, 0, 0, 0]);
    },
  };
}
