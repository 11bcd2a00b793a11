import { preparedQuery } from '../../db/prepared.js';
import { sql } from 'kysely';
import type { ExpressionBuilder, Insertable, Updateable } from 'kysely';
import { listQuery } from '../../db/query.js';
import type { Executor } from '../../db/query.js';
import type { DB, LessonTable } from '../../db/types.js';
import type { Viewer } from '../courses/policy.js';

export function findById(db: Executor, id: number) {
  return db.selectFrom('lessons').selectAll().where('id', '=', id).executeTakeFirst();
}

const outlineQuery = preparedQuery((db, courseId: number) =>
  db
    .selectFrom('lessons')
    .select(['id', 'title', 'position', 'duration', 'is_preview', 'section_id'])
    .where('course_id', '=', courseId)
    .orderBy('position', 'asc')
    .orderBy('id', 'asc'),
);
export function outlineOfCourse(db: Executor, courseId: number) {
  return outlineQuery(db, courseId);
}

export function filesOfCourse(db: Executor, courseId: number) {
  return db.selectFrom('lessons').select(['video', 'attachment']).where('course_id', '=', courseId).execute();
}

export async function lastPosition(db: Executor, courseId: number): Promise<number> {
  const row = await db
    .selectFrom('lessons')
    .select((eb) => eb.fn.max('position').as('last'))
    .where('course_id', '=', courseId)
    .executeTakeFirst();
  return Number(row?.last ?? 0);
}

export async function positionTaken(db: Executor, courseId: number, position: number, exceptId?: number): Promise<boolean> {
  let query = db.selectFrom('lessons').select('id').where('course_id', '=', courseId).where('position', '=', position);
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

export function insertLesson(db: Executor, lesson: Insertable<LessonTable>) {
  return db.insertInto('lessons').values(lesson).returningAll().executeTakeFirstOrThrow();
}

export function updateLesson(db: Executor, id: number, changes: Updateable<LessonTable>) {
  return db.updateTable('lessons').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
}

export function deleteLesson(db: Executor, id: number) {
  return db.deleteFrom('lessons').where('id', '=', id).returningAll().executeTakeFirst();
}

/** lessons_count and total_duration recounted from the lessons themselves. */
export async function refreshCourseCounters(db: Executor, courseId: number): Promise<void> {
  await db
    .updateTable('courses')
    .set((eb) => ({
      lessons_count: eb
        .selectFrom('lessons')
        .select((s) => s.fn.countAll<number>().as('n'))
        .where('course_id', '=', courseId),
      total_duration: eb
        .selectFrom('lessons')
        .select(sql<number>`coalesce(sum(duration), 0)`.as('total'))
        .where('course_id', '=', courseId),
    }))
    .where('id', '=', courseId)
    .execute();
}

/**
 * Lessons the viewer may read in full: `lessonAccess()` of courses/policy.ts as a WHERE
 * clause, so the database filters and pages (a list never refuses; it shows what it may).
 * Admins read all; the owner every lesson of their courses, drafts too; anyone else the
 * lessons of published courses that are previews or that they are enrolled in — in a
 * sequential course only those not locked for them.
 */
/**
 * In a sequential course, the lesson (as `lessons`) is open to this enrollment: every lesson
 * before it is completed. The WHERE form of sequentialLocks in courses/policy.ts.
 */
function openInSequence(eb: ExpressionBuilder<DB, 'lessons' | 'courses' | 'enrollments'>) {
  return eb.or([
    eb('courses.sequential', '=', false),
    eb.not(
      eb.exists(
        eb
          .selectFrom('lessons as earlier')
          .select('earlier.id')
          .whereRef('earlier.course_id', '=', 'lessons.course_id')
          .whereRef('earlier.position', '<', 'lessons.position')
          .where((inner) =>
            inner.not(
              inner.exists(
                inner
                  .selectFrom('lesson_completions as done')
                  .select('done.id')
                  .whereRef('done.enrollment_id', '=', 'enrollments.id')
                  .whereRef('done.lesson_id', '=', 'earlier.id'),
              ),
            ),
          ),
      ),
    ),
  ]);
}

export function listReadable(db: Executor, viewer: Viewer, courseId: number | undefined) {
  let query = db.selectFrom('lessons').innerJoin('courses', 'courses.id', 'lessons.course_id');
  if (courseId !== undefined) query = query.where('lessons.course_id', '=', courseId);
  if (viewer === null) {
    query = query.where('courses.is_published', '=', true).where('lessons.is_preview', '=', true);
  } else if (viewer.role !== 'admin') {
    const viewerId = viewer.id;
    query = query.where((eb) =>
      eb.or([
        eb('courses.instructor_id', '=', viewerId),
        eb.and([
          eb('courses.is_published', '=', true),
          eb.or([
            eb('lessons.is_preview', '=', true),
            eb.exists(
              eb
                .selectFrom('enrollments')
                .select('enrollments.id')
                .whereRef('enrollments.course_id', '=', 'lessons.course_id')
                .where('enrollments.student_id', '=', viewerId)
                // A locked lesson is not readable in full, so the list leaves it out.
                .where((inner) => openInSequence(inner)),
            ),
          ]),
        ]),
      ]),
    );
  }
  return listQuery(
    query.selectAll('lessons').orderBy('lessons.course_id', 'asc').orderBy('lessons.position', 'asc').orderBy('lessons.id', 'asc'),
  );
}
