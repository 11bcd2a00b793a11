import type { Kysely } from 'kysely';
import { isForeignKeyViolation, isUniqueViolation } from '../../db/errors.js';
import type { Executor } from '../../db/query.js';
import { writeTransaction } from '../../db/transaction.js';
import type { DB } from '../../db/types.js';
import { badRequest, conflict, forbidden, invalidField, notFound } from '../../shared/errors.js';
import { pageRequest, paginate } from '../../shared/pagination.js';
import type { RequestContext, UserContext } from '../../shared/context.js';
import type { Page } from '../../shared/pagination.js';
import { nowIso, toBool, toIso, toIsoOrNull } from '../../shared/time.js';
import type { Viewer } from '../courses/policy.js';
import { LESSON_LOCKED, canEditCourse, canSeeCourse, lessonAccess } from '../courses/policy.js';
import type { CourseListItem } from '../courses/schemas.js';
import type { LessonOutline } from '../courses/schemas.js';
import type { PublicUser } from '../users/schemas.js';
import type { DomainEvent } from '../events/service.js';
import type { EnrollmentRow } from '../../db/types.js';
import * as repo from './repository.js';
import type { Completion, CourseStudent, Enrollment, LessonPosition, PageQueryInput, Progress, ProgressDetail } from './schemas.js';

/** What this module needs of the courses module. */
export interface CoursesPort {
  findFacts(id: number): Promise<{ instructor_id: number; is_published: boolean; sequential: boolean } | undefined>;
  lockCourse(trx: Executor, id: number): Promise<unknown>;
  listItems(ctx: RequestContext, ids: number[]): Promise<CourseListItem[]>;
}

/** What this module needs of the lessons module. */
export interface LessonsPort {
  findFacts(lessonId: number): Promise<{ id: number; course_id: number; order: number; is_preview: boolean } | undefined>;
  outline(courseId: number): Promise<LessonOutline[]>;
}

/** What this module needs of the users module. */
export interface UsersPort {
  toPublicUser(
    ctx: RequestContext,
    row: { id: number; username: string; first_name: string; last_name: string; bio: string; profile_image: string | null },
  ): PublicUser;
}

/** What this module needs of the events module: recording in the change's transaction. */
export interface EventsPort {
  record(trx: Executor, event: DomainEvent): Promise<string>;
}

/** What this module needs of the quizzes module: a lesson with a quiz completes only by passing it. */
export interface QuizzesPort {
  hasQuiz(lessonId: number, trx?: Executor): Promise<boolean>;
}

/** What this module needs of the certificates module: issuing in the completing transaction. */
export interface CertificatesPort {
  issue(trx: Executor, enrollment: { course_id: number; student_id: number }): Promise<void>;
}

export interface EnrollmentsServiceDeps {
  db: Kysely<DB>;
  events: EventsPort;
  quizzes: () => QuizzesPort;
  certificates: () => CertificatesPort;
  courses: () => CoursesPort;
  lessons: () => LessonsPort;
  users: () => UsersPort;
}

const NOT_ENROLLED = 'You are not enrolled in this course.';
/** Reaching this share of a lesson's known duration completes it. */
const COMPLETION_SHARE = 0.9;

export type EnrollmentsService = ReturnType<typeof createEnrollmentsService>;

export function createEnrollmentsService(deps: EnrollmentsServiceDeps) {
  const { db } = deps;

  /** The course if the caller may see it (a draft exists only for its owner and admins), else 404. */
  async function visibleCourse(caller: Viewer, courseId: number) {
    const course = await deps.courses().findFacts(courseId);
    if (!course || !canSeeCourse(caller, course)) throw notFound();
    return course;
  }

  async function listItems(ctx: RequestContext, ids: number[]): Promise<Map<number, CourseListItem>> {
    const items = await deps.courses().listItems(ctx, ids);
    return new Map(items.map((item) => [item.id, item]));
  }

  /**
   * An enrollment has just reached 100% for the first time (completed_at was set in this
   * transaction): what follows a completion happens here, in the same transaction.
   */
  async function completed(trx: Executor, enrollment: EnrollmentRow): Promise<void> {
    await deps.events.record(trx, {
      type: 'course.completed',
      courseId: enrollment.course_id,
      data: {
        enrollment: {
          id: enrollment.id,
          course: enrollment.course_id,
          student: enrollment.student_id,
          completed_at: toIsoOrNull(enrollment.completed_at),
        },
      },
    });
    await deps.certificates().issue(trx, enrollment);
  }

  /**
   * The one path of a lesson marked or unmarked, for POST/DELETE .../complete/ and a passing
   * quiz attempt alike, inside the caller's transaction with the enrollment locked: the
   * completion written and the progress recounted (one statement on PostgreSQL), then
   * lesson.completed when this call marked it, and completed() the first time the enrollment
   * completes. Nothing changed (a done lesson marked, an undone one unmarked): nothing
   * recounted, the locked row is current (every lesson change recounts it under this lock).
   */
  async function markLesson(
    trx: Executor,
    lesson: { id: number; course_id: number },
    enrollment: EnrollmentRow,
    done: boolean,
  ): Promise<Completion> {
    const change = await repo.applyCompletion(trx, enrollment, lesson.id, done, nowIso());
    const row = change.changed ? change.enrollment : enrollment;
    if (!row) throw forbidden(NOT_ENROLLED);
    if (change.changed && done) {
      await deps.events.record(trx, {
        type: 'lesson.completed',
        courseId: lesson.course_id,
        data: { lesson: { id: lesson.id, course: lesson.course_id }, student: row.student_id, progress: row.progress },
      });
    }
    if (enrollment.completed_at === null && row.completed_at !== null) await completed(trx, row);
    return {
      progress: row.progress,
      completed_lessons: row.completed_lessons,
      total_lessons: change.totalLessons,
      completed_at: toIsoOrNull(row.completed_at),
    };
  }

  /** The later of two optional ISO times' owners; ties go to `b`. */
  const later = <T extends { at: string }>(a: T | undefined, b: T | undefined): T | undefined =>
    a === undefined ? b : b === undefined ? a : a.at > b.at ? a : b;

  const progressOf = (row: repo.StudentEnrollmentRow): Progress => ({
    course: { id: row.course_id, title: row.title },
    progress: row.progress,
    completed_lessons: row.completed_lessons,
    total_lessons: Number(row.total_lessons),
    enrolled_on: toIso(row.enrolled_on),
    completed_at: toIsoOrNull(row.completed_at),
  });

  return {
    /** The student's enrollment locked for the caller's transaction (see setLessonDone for the lock order). */
    lockEnrollment(trx: Executor, studentId: number, courseId: number): Promise<EnrollmentRow | undefined> {
      return repo.lockEnrollment(trx, studentId, courseId);
    },

    /**
     * Marks a lesson done inside the caller's transaction (a passing quiz attempt), by the
     * same path as POST .../complete/ (markLesson): the recount, lesson.completed when this
     * call marked it, and completed() the first time the enrollment completes. The caller
     * holds the lesson; the enrollment is locked here (again, if the caller already did).
     */
    async completeLessonIn(trx: Executor, studentId: number, lesson: { id: number; course_id: number }): Promise<void> {
      const enrollment = await repo.lockEnrollment(trx, studentId, lesson.course_id);
      if (!enrollment) throw forbidden(NOT_ENROLLED);
      await markLesson(trx, lesson, enrollment, true);
    },

    /** Pass the transaction when asking from inside one (on SQLite, `db` waits for it to end). */
    async isEnrolled(studentId: number, courseId: number, trx: Executor = db): Promise<boolean> {
      return (await repo.findEnrollment(trx, studentId, courseId)) !== undefined;
    },

    /** Enrolled, and (for a sequential course) whether every lesson before `position` is completed: the lesson policy's inputs. */
    async sequenceOf(
      studentId: number,
      courseId: number,
      position: number,
      sequential: boolean,
    ): Promise<{ enrolled: boolean; previousCompleted: boolean }> {
      const enrollment = await repo.findEnrollment(db, studentId, courseId);
      if (!enrollment) return { enrolled: false, previousCompleted: false };
      return { enrolled: true, previousCompleted: !sequential || (await repo.previousCompleted(db, enrollment.id, courseId, position)) };
    },

    completedLessonIds: (studentId: number, courseId: number): Promise<number[]> => repo.completedLessonIds(db, studentId, courseId),

    /** The caller's enrollment as a course detail shows it, or null. */
    async summaryFor(
      studentId: number,
      courseId: number,
    ): Promise<{ progress: number; enrolled_on: string; completed_at: string | null } | null> {
      const row = await repo.findEnrollment(db, studentId, courseId);
      return row ? { progress: row.progress, enrolled_on: toIso(row.enrolled_on), completed_at: toIsoOrNull(row.completed_at) } : null;
    },

    /**
     * Recomputes progress and completed_at of every enrollment of a course, set-based.
     * Call it inside the transaction that inserts or deletes one of its lessons, after that
     * change: on PostgreSQL it then locks the course's enrollments, so take locks in the
     * order lesson → course → enrollments to stay clear of deadlocks.
     */
    async recomputeCourseProgress(trx: Executor, courseId: number): Promise<void> {
      const incomplete = await repo.incompleteOfCourse(trx, courseId);
      await repo.refreshProgress(trx, { courseId }, nowIso());
      for (const row of await repo.completedAmong(trx, incomplete)) await completed(trx, row);
    },

    /**
     * One enrollment per student and course, decided by the unique index: of concurrent
     * identical requests one insert wins and the rest fail on the constraint (409). The
     * students_count increment commits or rolls back with the row, and counts only while
     * the course is published at that instant.
     */
    async enroll(ctx: UserContext, courseId: number): Promise<Enrollment> {
      const caller = ctx.viewer;
      const course = await visibleCourse(caller, courseId);
      if (!course.is_published) throw notFound();
      let row;
      try {
        row = await writeTransaction(db, async (trx) => {
          // The course row first, as every writer of its counters does; then the enrollment.
          if (!(await repo.addToStudentsCount(trx, courseId, 1, { publishedOnly: true }))) throw notFound();
          const enrollment = await repo.insertEnrollment(trx, caller.id, courseId, nowIso());
          await deps.events.record(trx, {
            type: 'enrollment.created',
            courseId,
            data: { enrollment: { id: enrollment.id, course: courseId, student: caller.id, enrolled_on: toIso(enrollment.enrolled_on) } },
          });
          return enrollment;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('You are already enrolled in this course.');
        if (isForeignKeyViolation(error)) throw notFound();
        throw error;
      }
      const items = await listItems(ctx, [courseId]);
      const item = items.get(courseId);
      if (!item) throw notFound();
      return { id: row.id, course: item, enrolled_on: toIso(row.enrolled_on), progress: row.progress, completed_at: null };
    },

    /** Unenrolls; the completions go with the enrollment. */
    async unenroll(ctx: UserContext, courseId: number): Promise<void> {
      await writeTransaction(db, async (trx) => {
        // Course row first, as every writer of its counters does, then the enrollment.
        await deps.courses().lockCourse(trx, courseId);
        const deleted = await repo.deleteEnrollment(trx, ctx.viewer.id, courseId);
        if (!deleted) throw notFound();
        await deps.events.record(trx, {
          type: 'enrollment.deleted',
          courseId,
          data: { enrollment: { id: deleted.id, course: courseId, student: ctx.viewer.id } },
        });
        await repo.addToStudentsCount(trx, courseId, -1);
      });
    },

    /** The caller's enrollments in courses they can see, newest first. */
    async myCourses(ctx: UserContext, query: PageQueryInput): Promise<Page<Enrollment>> {
      return paginate(ctx, pageRequest(query), repo.listOfStudent(db, ctx.viewer.id), async (rows) => {
        const items = await listItems(
          ctx,
          rows.map((r) => r.course_id),
        );
        return rows.flatMap((row) => {
          const course = items.get(row.course_id);
          return course
            ? [
                {
                  id: row.id,
                  course,
                  enrolled_on: toIso(row.enrolled_on),
                  progress: row.progress,
                  completed_at: toIsoOrNull(row.completed_at),
                },
              ]
            : [];
        });
      });
    },

    async myProgress(ctx: UserContext, query: PageQueryInput): Promise<Page<Progress>> {
      return paginate(ctx, pageRequest(query), repo.listOfStudent(db, ctx.viewer.id), (rows) => rows.map(progressOf));
    },

    /** The caller's progress in one course, lesson by lesson; 404 unless they are enrolled in it and it is published. */
    async progressDetail(ctx: UserContext, courseId: number): Promise<ProgressDetail> {
      const row = await repo.findOfStudent(db, ctx.viewer.id, courseId);
      if (!row) throw notFound();
      const [outline, completions, positions] = await Promise.all([
        deps.lessons().outline(courseId),
        repo.completionsOf(db, row.id),
        repo.positionsOf(db, row.id),
      ]);
      const doneAt = new Map(completions.map((c) => [c.lesson_id, toIso(c.completed_at)]));
      const positionOf = new Map(positions.map((p) => [p.lesson_id, Number(p.position)]));
      // The lesson touched last, by position report or completion, among the lessons of the course now.
      const inCourse = new Set(outline.map((lesson) => lesson.id));
      let last: { lesson: number; at: string } | undefined;
      for (const p of positions) if (inCourse.has(p.lesson_id)) last = later(last, { lesson: p.lesson_id, at: toIso(p.updated_at) });
      for (const [lesson, at] of doneAt) if (inCourse.has(lesson)) last = later({ lesson, at }, last);
      return {
        ...progressOf(row),
        lessons: outline.map((lesson) => ({
          id: lesson.id,
          title: lesson.title,
          order: lesson.order,
          completed: doneAt.has(lesson.id),
          completed_at: doneAt.get(lesson.id) ?? null,
          position: positionOf.get(lesson.id) ?? null,
        })),
        resume: last ? { lesson: last.lesson, position: positionOf.get(last.lesson) ?? 0 } : null,
        next_lesson: outline.find((lesson) => !doneAt.has(lesson.id))?.id ?? null,
      };
    },

    /**
     * Marks (done) or unmarks a lesson and recounts the caller's progress in one
     * transaction. Its first statement reads the lesson's facts and locks the lesson (a
     * delete of it waits, or has happened: 404), then the enrollment: completions of one
     * student run one after another and each recount sees the ones before it. Lessons and
     * enrollments are locked in the order a lesson change takes them (course → lesson →
     * enrollments), so the two never deadlock. The second writes and recounts (markLesson).
     */
    async setLessonDone(ctx: UserContext, lessonId: number, done: boolean): Promise<Completion> {
      const caller = ctx.viewer;
      try {
        return await writeTransaction(db, async (trx) => {
          const facts = await repo.lockForCompletion(trx, lessonId, caller.id);
          if (!facts || !canSeeCourse(caller, facts.course)) throw notFound();
          const { lesson, course, enrollment } = facts;
          if (!enrollment) throw forbidden(NOT_ENROLLED);
          // A locked lesson cannot be completed (unmarking one is harmless and stays allowed).
          if (done && course.sequential) {
            const previousCompleted = await repo.previousCompleted(trx, enrollment.id, lesson.course_id, lesson.order);
            if (lessonAccess(caller, course, lesson, true, { sequential: true, previousCompleted }) === 'locked') {
              throw forbidden(LESSON_LOCKED, 'lesson_locked');
            }
          }
          // After the permission checks: only an enrolled student learns that the lesson has a quiz.
          if (done && facts.hasQuiz) throw badRequest('This lesson is completed by passing its quiz.', 'quiz_required');
          return markLesson(trx, lesson, enrollment, done);
        });
      } catch (error) {
        // The lesson went between the check and the insert.
        if (isForeignKeyViolation(error)) throw notFound();
        throw error;
      }
    },

    /**
     * The resume heartbeat (every few seconds while a video plays): one read (lesson, course,
     * enrollment, completion in one join), the lesson policy with its sequential lock, and
     * one upsert of the student's own row — no course lock, no recount. Only when the
     * position reaches 90% of a known duration and the lesson is not completed yet does it
     * complete the lesson, by the same path as POST .../complete/.
     */
    async reportPosition(ctx: UserContext, lessonId: number, position: number): Promise<LessonPosition> {
      const caller = ctx.viewer;
      const facts = await repo.positionFacts(db, lessonId, caller.id);
      if (!facts) throw notFound();
      const course = { instructor_id: facts.instructor_id, is_published: toBool(facts.is_published) };
      const lesson = { is_preview: toBool(facts.is_preview) };
      const enrollmentId = facts.enrollment_id;
      const sequential = toBool(facts.sequential);
      const sequence = {
        sequential,
        previousCompleted:
          enrollmentId === null || !sequential || (await repo.previousCompleted(db, enrollmentId, facts.course_id, facts.position)),
      };
      switch (lessonAccess(caller, course, lesson, enrollmentId !== null, sequence)) {
        case 'not_found':
          throw notFound();
        case 'locked':
          throw forbidden(LESSON_LOCKED, 'lesson_locked');
        case 'unauthenticated':
        case 'forbidden':
          throw forbidden(NOT_ENROLLED, 'not_enrolled');
        case 'full':
          break;
      }
      // Owners, admins and preview readers may read the lesson, but only an enrollment has a place to keep a position.
      if (enrollmentId === null) throw forbidden(NOT_ENROLLED, 'not_enrolled');
      if (facts.duration > 0 && position > facts.duration) {
        throw invalidField(
          'position',
          `Ensure this value is less than or equal to the lesson's duration (${facts.duration}).`,
          'max_value',
        );
      }
      try {
        await repo.savePosition(db, enrollmentId, lessonId, position, nowIso());
      } catch (error) {
        // The lesson or the enrollment went between the read and the write.
        if (isForeignKeyViolation(error)) throw notFound();
        throw error;
      }
      let completed = facts.completion_id !== null;
      // A lesson with a quiz completes only by passing the quiz, never by watching.
      if (!completed && facts.duration > 0 && position >= COMPLETION_SHARE * facts.duration && !(await deps.quizzes().hasQuiz(lessonId))) {
        await this.setLessonDone(ctx, lessonId, true);
        completed = true;
      }
      return { lesson: lessonId, position, completed };
    },

    /** The students of a course, for its owner and admins. */
    async studentsOf(ctx: UserContext, courseId: number, query: PageQueryInput): Promise<Page<CourseStudent>> {
      const course = await visibleCourse(ctx.viewer, courseId);
      if (!canEditCourse(ctx.viewer, course)) throw forbidden('Only the instructor of this course and admins may see its students.');
      return paginate(ctx, pageRequest(query), repo.listOfCourse(db, courseId), (rows) =>
        rows.map((row) => ({
          student: deps.users().toPublicUser(ctx, row),
          enrolled_on: toIso(row.enrolled_on),
          progress: row.progress,
          completed_at: toIsoOrNull(row.completed_at),
        })),
      );
    },
  };
}
