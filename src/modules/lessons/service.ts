import type { Kysely } from 'kysely';
import type { Executor } from '../../db/query.js';
import type { DB, LessonRow } from '../../db/types.js';
import { isUniqueViolation } from '../../db/errors.js';
import { writeTransaction } from '../../db/transaction.js';
import type { StoredUpload } from '../../plugins/uploads.js';
import { FieldErrorCollector, forbidden, invalidField, notFound, unauthorized } from '../../shared/errors.js';
import { pageRequest, paginate } from '../../shared/pagination.js';
import type { RequestContext, UserContext } from '../../shared/context.js';
import type { Page } from '../../shared/pagination.js';
import { nowIso, toBool, toIso } from '../../shared/time.js';
import { LESSON_LOCKED, canEditCourse, canSeeCourse, lessonAccess } from '../courses/policy.js';
import type { CourseFacts, LessonAccess, Viewer } from '../courses/policy.js';
import type { MediaUrls } from '../media/urls.js';
import { cleanRequiredText, MAX_TITLE_LENGTH } from '../../shared/text.js';
import * as repo from './repository.js';
import { MAX_INT } from './schemas.js';
import type { Lesson, LessonCreateInput, LessonQueryInput, LessonUpdateInput } from './schemas.js';

/** What this module needs of the enrollments module, looked up when called. */
export interface EnrollmentsPort {
  isEnrolled(studentId: number, courseId: number): Promise<boolean>;
  /**
   * Whether the student is enrolled in the course and, when `sequential`, whether every
   * lesson before the one at `position` is completed by them.
   */
  sequenceOf(
    studentId: number,
    courseId: number,
    position: number,
    sequential: boolean,
  ): Promise<{ enrolled: boolean; previousCompleted: boolean }>;
  recomputeCourseProgress(trx: Executor, courseId: number): Promise<void>;
}

/** What this module needs of the courses module, looked up when called. */
export interface CoursesPort {
  findFacts(id: number): Promise<(CourseFacts & { sequential: boolean }) | undefined>;
  /** The course row locked for the transaction (see courses' lockCourse), or undefined if it is gone. */
  lockCourse(trx: Executor, id: number): Promise<unknown>;
}

/** What this module needs of durable file cleanup (src/storage/cleanup.ts). */
export interface FilesPort {
  /** In the transaction that drops the references: records the files to delete after it commits. */
  schedule(trx: Kysely<DB>, keys: readonly (string | null | undefined)[]): Promise<string[]>;
  /** After the commit: deletes them (a crash in between leaves the record for the sweep). */
  deleteScheduled(keys: readonly string[]): Promise<void>;
}

export interface LessonsServiceDeps {
  db: Kysely<DB>;
  files: FilesPort;
  media: Pick<MediaUrls, 'signedUrl'>;
  courses: () => CoursesPort;
  enrollments: () => EnrollmentsPort;
  sections: () => SectionsPort;
}

/** What this module needs of the sections module: a lesson's section must be one of its course. */
export interface SectionsPort {
  courseOf(trx: Executor, sectionId: number): Promise<number | undefined>;
}

export type LessonUploads = Partial<Record<'video' | 'attachment', StoredUpload>>;

export type LessonsService = ReturnType<typeof createLessonsService>;

const ORDER_TAKEN = 'A lesson with this order already exists in this course.';
const courseMissing = (id: number) => invalidField('course', `Invalid pk "${id}" - object does not exist.`);

export function createLessonsService(deps: LessonsServiceDeps) {
  const { db, media } = deps;

  const toLesson = (ctx: RequestContext, row: LessonRow): Lesson => ({
    id: row.id,
    course: row.course_id,
    title: row.title,
    content: row.content,
    order: row.position,
    duration: row.duration,
    is_preview: toBool(row.is_preview),
    section: row.section_id,
    video: media.signedUrl(ctx.origin, row.video),
    attachment: media.signedUrl(ctx.origin, row.attachment),
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  });

  const courseFacts = (courseId: number) => deps.courses().findFacts(courseId);

  /**
   * The policy's answer; the enrollment (and, in a sequential course, the student's place in
   * it) is looked up only when it is what decides.
   */
  async function accessTo(viewer: Viewer, row: LessonRow, course: CourseFacts & { sequential: boolean }): Promise<LessonAccess> {
    const lesson = { is_preview: toBool(row.is_preview) };
    const access = lessonAccess(viewer, course, lesson, false);
    if (access !== 'forbidden' || viewer === null) return access;
    const { enrolled, previousCompleted } = await deps.enrollments().sequenceOf(viewer.id, row.course_id, row.position, course.sequential);
    return lessonAccess(viewer, course, lesson, enrolled, { sequential: course.sequential, previousCompleted });
  }

  /** The lesson if the caller may read it in full (content, signed media URLs); else 404, 401, 403, or 403 `lesson_locked`. */
  async function readable(viewer: Viewer, id: number): Promise<LessonRow> {
    const row = await repo.findById(db, id);
    const course = row && (await courseFacts(row.course_id));
    if (!row || !course) throw notFound();
    switch (await accessTo(viewer, row, course)) {
      case 'full':
        return row;
      case 'not_found':
        throw notFound();
      case 'unauthenticated':
        throw unauthorized();
      case 'forbidden':
        throw forbidden('Enroll in this course to read this lesson.');
      case 'locked':
        throw forbidden(LESSON_LOCKED, 'lesson_locked');
    }
  }

  /** A lesson's section must be a section of its course (checked under the course lock, which section deletes take too). */
  async function checkSection(trx: Executor, courseId: number, section: number | null | undefined): Promise<void> {
    if (section === undefined || section === null) return;
    const sectionCourse = await deps.sections().courseOf(trx, section);
    if (sectionCourse === undefined) throw invalidField('section', `Invalid pk "${section}" - object does not exist.`);
    if (sectionCourse !== courseId) throw invalidField('section', 'The section must be a section of the lesson\u2019s course.');
  }

  /** A lesson the caller may change: someone else's draft does not exist for them, a course they do not own is a 403. */
  async function editableLesson(caller: Viewer, id: number): Promise<LessonRow> {
    const row = await repo.findById(db, id);
    const course = row && (await courseFacts(row.course_id));
    if (!row || !course || !canSeeCourse(caller, course)) throw notFound();
    if (!canEditCourse(caller, course)) throw forbidden('Only the owner of the course or an admin may change its lessons.');
    return row;
  }

  /** A unique index lost to a concurrent writer speaks as the check before it would have. */
  function orderClash(error: unknown): never {
    if (isUniqueViolation(error)) throw invalidField('order', ORDER_TAKEN);
    throw error;
  }

  return {
    /** The table of contents of a course, by order; what a course detail shows to anyone who may see it. */
    async outline(
      courseId: number,
    ): Promise<{ id: number; title: string; order: number; duration: number; is_preview: boolean; section: number | null }[]> {
      const rows = await repo.outlineOfCourse(db, courseId);
      return rows.map((r) => ({
        id: r.id,
        title: r.title,
        order: r.position,
        duration: r.duration,
        is_preview: toBool(r.is_preview),
        section: r.section_id,
      }));
    },

    /** Storage keys of every file of a course's lessons, for removal after the course is deleted. */
    async storageKeysOfCourse(courseId: number): Promise<string[]> {
      const rows = await repo.filesOfCourse(db, courseId);
      return rows.flatMap((r) => [r.video, r.attachment]).filter((key): key is string => key !== null);
    },

    /** What other modules need of a lesson: which course it belongs to, and how it is read. */
    async findFacts(
      lessonId: number,
    ): Promise<{ id: number; course_id: number; title: string; order: number; is_preview: boolean } | undefined> {
      const row = await repo.findById(db, lessonId);
      return row && { id: row.id, course_id: row.course_id, title: row.title, order: row.position, is_preview: toBool(row.is_preview) };
    },

    /** 404 for a lesson the caller may not see, 403 for one they may not change; nothing otherwise. */
    async checkEditable(ctx: UserContext, id: number): Promise<void> {
      await editableLesson(ctx.viewer, id);
    },

    async list(ctx: RequestContext, query: LessonQueryInput): Promise<Page<Lesson>> {
      return paginate(ctx, pageRequest(query), repo.listReadable(db, ctx.viewer, query.course), (rows) =>
        rows.map((r) => toLesson(ctx, r)),
      );
    },

    async get(ctx: RequestContext, id: number): Promise<Lesson> {
      return toLesson(ctx, await readable(ctx.viewer, id));
    },

    /**
     * The lesson policy with the sequential lock, for other paths that give a lesson's
     * content or record progress in it (a quiz): the lesson's facts if the caller may read
     * it in full, else the same 404/401/403/`lesson_locked` as GET /api/lessons/{id}/.
     */
    async requireReadable(ctx: RequestContext, id: number): Promise<{ id: number; course_id: number; order: number; is_preview: boolean }> {
      const row = await readable(ctx.viewer, id);
      return { id: row.id, course_id: row.course_id, order: row.position, is_preview: toBool(row.is_preview) };
    },

    async create(ctx: UserContext, input: LessonCreateInput, uploads: LessonUploads): Promise<Lesson> {
      const caller = ctx.viewer;
      const course = await courseFacts(input.course);
      if (!course || !canSeeCourse(caller, course)) throw courseMissing(input.course);
      if (!canEditCourse(caller, course)) throw forbidden('Only the owner of the course or an admin may add lessons to it.');
      const errors = new FieldErrorCollector();
      const title = cleanRequiredText(errors, 'title', input.title, MAX_TITLE_LENGTH);
      errors.throwIfAny();

      const row = await writeTransaction(db, async (trx) => {
        if (!(await deps.courses().lockCourse(trx, input.course))) throw courseMissing(input.course);
        await checkSection(trx, input.course, input.section);
        let position = input.order;
        if (position === undefined) {
          position = (await repo.lastPosition(trx, input.course)) + 1;
          if (position > MAX_INT) throw invalidField('order', 'There is no room after the last lesson; give an order.');
        } else if (await repo.positionTaken(trx, input.course, position)) {
          throw invalidField('order', ORDER_TAKEN);
        }
        const now = nowIso();
        const lesson = await repo.insertLesson(trx, {
          course_id: input.course,
          title,
          content: input.content ?? '',
          position,
          duration: input.duration ?? 0,
          is_preview: input.is_preview ?? false,
          section_id: input.section ?? null,
          video: uploads.video?.key ?? null,
          attachment: uploads.attachment?.key ?? null,
          created_at: now,
          updated_at: now,
        });
        await repo.refreshCourseCounters(trx, input.course);
        await deps.enrollments().recomputeCourseProgress(trx, input.course);
        return lesson;
      }).catch(orderClash);
      return toLesson(ctx, row);
    },

    async update(ctx: UserContext, id: number, input: LessonUpdateInput, uploads: LessonUploads): Promise<Lesson> {
      const row = await editableLesson(ctx.viewer, id);
      const errors = new FieldErrorCollector();
      if (input.course !== undefined && input.course !== row.course_id) {
        errors.add('course', 'The course of a lesson cannot be changed.');
      }
      const title = input.title === undefined ? undefined : cleanRequiredText(errors, 'title', input.title, MAX_TITLE_LENGTH);
      errors.throwIfAny();

      const { after, dropped } = await writeTransaction(db, async (trx) => {
        await deps.courses().lockCourse(trx, row.course_id);
        // Read again under the lock: the files to remove are those of the row this update replaces.
        const before = await repo.findById(trx, id);
        if (!before) throw notFound();
        await checkSection(trx, row.course_id, input.section);
        if (
          input.order !== undefined &&
          input.order !== before.position &&
          (await repo.positionTaken(trx, row.course_id, input.order, id))
        ) {
          throw invalidField('order', ORDER_TAKEN);
        }
        const after = await repo.updateLesson(trx, id, {
          title,
          content: input.content,
          position: input.order,
          duration: input.duration,
          is_preview: input.is_preview,
          section_id: input.section,
          video: uploads.video?.key ?? input.video,
          attachment: uploads.attachment?.key ?? input.attachment,
          updated_at: nowIso(),
        });
        if (!after) throw notFound();
        if (after.duration !== before.duration) await repo.refreshCourseCounters(trx, row.course_id);
        const dropped = await deps.files.schedule(trx, [
          before.video !== after.video ? before.video : null,
          before.attachment !== after.attachment ? before.attachment : null,
        ]);
        return { after, dropped };
      }).catch(orderClash);
      await deps.files.deleteScheduled(dropped);
      return toLesson(ctx, after);
    },

    /** The lesson, its completions (cascade) and then its files; enrolled students' progress is recounted with it. */
    async remove(ctx: UserContext, id: number): Promise<void> {
      const row = await editableLesson(ctx.viewer, id);
      const dropped = await writeTransaction(db, async (trx) => {
        await deps.courses().lockCourse(trx, row.course_id);
        const deleted = await repo.deleteLesson(trx, id);
        if (!deleted) throw notFound();
        await repo.refreshCourseCounters(trx, row.course_id);
        await deps.enrollments().recomputeCourseProgress(trx, row.course_id);
        return deps.files.schedule(trx, [deleted.video, deleted.attachment]);
      });
      await deps.files.deleteScheduled(dropped);
    },
  };
}
