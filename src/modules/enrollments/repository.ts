import { sql } from 'kysely';
import type { ExpressionBuilder, Kysely } from 'kysely';
import { isPostgres } from '../../db/index.js';
import { preparedList, preparedQuery } from '../../db/prepared.js';
import { forUpdate, listQuery } from '../../db/query.js';
import type { Executor } from '../../db/query.js';
import type { DB, EnrollmentRow } from '../../db/types.js';

/*
 * The statements of a lesson completion (POST/DELETE /api/lessons/{id}/complete/) are
 * prepared: built and compiled once, not on every request. On PostgreSQL the write mix is
 * bound by the server's event loop while each transaction waits, locks held, for its next
 * statement (pg_stat_activity: "idle in transaction"), so CPU spent building queries
 * lengthens every transaction.
 */
const enrollmentOf = preparedQuery((db, studentId: number, courseId: number) =>
  db.selectFrom('enrollments').selectAll().where('student_id', '=', studentId).where('course_id', '=', courseId),
);
const lockedEnrollmentOf = preparedQuery((db, studentId: number, courseId: number) =>
  forUpdate(db, db.selectFrom('enrollments').selectAll().where('student_id', '=', studentId).where('course_id', '=', courseId)),
);

export async function findEnrollment(db: Executor, studentId: number, courseId: number) {
  return (await enrollmentOf(db, studentId, courseId))[0];
}

/** The enrollment, locked until the transaction ends: completions of one student run one after another. */
export async function lockEnrollment(db: Executor, studentId: number, courseId: number) {
  return (await lockedEnrollmentOf(db, studentId, courseId))[0];
}

export function insertEnrollment(db: Executor, studentId: number, courseId: number, now: string) {
  return db
    .insertInto('enrollments')
    .values({ student_id: studentId, course_id: courseId, enrolled_on: now, completed_at: null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Removes the enrollment; its completions go with it (ON DELETE CASCADE). */
export function deleteEnrollment(db: Executor, studentId: number, courseId: number) {
  return db
    .deleteFrom('enrollments')
    .where('student_id', '=', studentId)
    .where('course_id', '=', courseId)
    .returning('id')
    .executeTakeFirst();
}

/**
 * An atomic increment: the row lock it takes orders concurrent writers, each adds to the
 * latest value. With `publishedOnly`, nothing changes unless the course is published at
 * that instant; returns whether the row changed.
 */
export async function addToStudentsCount(
  db: Executor,
  courseId: number,
  delta: number,
  options: { publishedOnly?: boolean } = {},
): Promise<boolean> {
  let query = db
    .updateTable('courses')
    .set((eb) => ({ students_count: eb('students_count', '+', delta) }))
    .where('id', '=', courseId);
  if (options.publishedOnly) query = query.where('is_published', '=', true);
  const result = await query.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Locks every enrollment of a course, so a recount cannot miss a completion committed meanwhile. */
async function lockEnrollmentsOfCourse(db: Executor, courseId: number): Promise<void> {
  if (!isPostgres(db)) return;
  await db.selectFrom('enrollments').select('id').where('course_id', '=', courseId).orderBy('id').forUpdate().execute();
}

/**
 * Recounts completed lessons and recomputes progress and completed_at, in one UPDATE for
 * every enrollment of a course (one enrollment's: applyCompletion): progress = 100 × completed ÷ lessons of the course now,
 * rounded to 2 places, 0 without lessons; completed_at is set the first time every lesson
 * is done and kept afterwards. Completions count only for lessons still in the course.
 * Same SQL on both databases (UPDATE … FROM: PostgreSQL, SQLite ≥ 3.33).
 */
export async function refreshProgress(db: Executor, scope: { courseId: number }, now: string): Promise<void> {
  await lockEnrollmentsOfCourse(db, scope.courseId);
  await refreshOfCourse(db, scope.courseId, now);
}

function progressUpdate(db: Kysely<DB>, scope: 'course' | 'enrollment', id: number, now: string) {
  const counts = db
    .selectFrom('enrollments as e')
    .select((eb) => [
      'e.id',
      eb
        .selectFrom('lesson_completions as lc')
        .innerJoin('lessons as l', 'l.id', 'lc.lesson_id')
        .whereRef('lc.enrollment_id', '=', 'e.id')
        .whereRef('l.course_id', '=', 'e.course_id')
        .select((inner) => inner.fn.countAll<number>().as('n'))
        .as('done'),
      eb
        .selectFrom('lessons as l')
        .whereRef('l.course_id', '=', 'e.course_id')
        .select((inner) => inner.fn.countAll<number>().as('n'))
        .as('total'),
    ])
    .where(scope === 'course' ? 'e.course_id' : 'e.id', '=', id);
  return db.updateTable('enrollments').from(counts.as('c')).set(progressSet(now)).whereRef('enrollments.id', '=', 'c.id');
}

/**
 * The recount's new values from `c.done` (completed lessons still in the course) and `c.total`
 * (lessons of the course now): one rule for every recount.
 */
const progressSet = (now: string) => ({
  completed_lessons: sql<number>`c.done`,
  progress: sql<number>`case when c.total = 0 then 0 when c.done >= c.total then 100 else round(100.0 * c.done / c.total, 2) end`,
  completed_at: sql<string>`case when enrollments.completed_at is null and c.total > 0 and c.done >= c.total then ${now} else enrollments.completed_at end`,
});
const refreshOfCourse = preparedQuery((db, courseId: number, now: string) => progressUpdate(db, 'course', courseId, now));

/** The enrollment columns a completion answers with and hands to what follows it. */
const ENROLLMENT_COLUMNS = ['id', 'student_id', 'course_id', 'enrolled_on', 'progress', 'completed_lessons', 'completed_at'] as const;

/**
 * A lesson with what a completion's policy needs: its course's visibility facts and whether
 * the lesson carries a quiz (then it completes only by passing it).
 */
function lessonFacts(db: Kysely<DB>, lessonId: number) {
  return db
    .selectFrom('lessons as l')
    .innerJoin('courses as c', 'c.id', 'l.course_id')
    .select((eb) => [
      'l.id',
      'l.course_id',
      'l.position',
      'l.is_preview',
      'c.instructor_id',
      'c.is_published',
      'c.sequential',
      eb.exists(eb.selectFrom('quizzes as q').select('q.id').whereRef('q.lesson_id', '=', 'l.id')).as('has_quiz'),
    ])
    .where('l.id', '=', lessonId);
}
const lessonFactsOf = preparedQuery((db, lessonId: number) => lessonFacts(db, lessonId));

/**
 * The first statement of a completion's transaction: the lesson's facts and the caller's
 * enrollment, with the completion's locks taken in its lock order, lesson then enrollment
 * (PostgreSQL: `FOR KEY SHARE OF l FOR UPDATE OF e`, locked in that order; a delete of the
 * lesson waits, or has happened and the row is gone). The enrollment is returned as locked,
 * its latest committed version. No row: not enrolled, or no such lesson.
 */
const lockedForCompletion = preparedQuery((db, lessonId: number, studentId: number) => {
  const query = lessonFacts(db, lessonId)
    .innerJoin('enrollments as e', (join) => join.onRef('e.course_id', '=', 'l.course_id').on('e.student_id', '=', studentId))
    .select([
      'e.id as e_id',
      'e.student_id as e_student_id',
      'e.enrolled_on as e_enrolled_on',
      'e.progress as e_progress',
      'e.completed_lessons as e_completed_lessons',
      'e.completed_at as e_completed_at',
    ]);
  return isPostgres(db) ? query.forKeyShare('l').forUpdate('e') : query;
});

export interface CompletionFacts {
  lesson: { id: number; course_id: number; order: number; is_preview: boolean };
  course: { instructor_id: number; is_published: boolean; sequential: boolean };
  hasQuiz: boolean;
  /** The caller's enrollment, locked until the transaction ends; undefined if not enrolled. */
  enrollment: EnrollmentRow | undefined;
}

const factsOf = (row: Awaited<ReturnType<typeof lessonFactsOf>>[number]) => ({
  lesson: { id: row.id, course_id: row.course_id, order: row.position, is_preview: Boolean(row.is_preview) },
  course: { instructor_id: row.instructor_id, is_published: Boolean(row.is_published), sequential: Boolean(row.sequential) },
  hasQuiz: Boolean(row.has_quiz),
});

/**
 * Everything a completion decides on, with the lesson and the enrollment locked (see
 * lockedForCompletion): one statement when the caller is enrolled; when not, a second
 * (unlocked) read tells a missing lesson from a missing enrollment. Undefined: no such lesson.
 */
export async function lockForCompletion(db: Executor, lessonId: number, studentId: number): Promise<CompletionFacts | undefined> {
  const [row] = await lockedForCompletion(db, lessonId, studentId);
  if (row) {
    const enrollment: EnrollmentRow = {
      id: row.e_id,
      student_id: row.e_student_id,
      course_id: row.course_id,
      enrolled_on: row.e_enrolled_on,
      progress: row.e_progress,
      completed_lessons: row.e_completed_lessons,
      completed_at: row.e_completed_at,
    };
    return { ...factsOf(row), enrollment };
  }
  const [facts] = await lessonFactsOf(db, lessonId);
  return facts && { ...factsOf(facts), enrollment: undefined };
}

/*
 * Marking or unmarking with its recount, on PostgreSQL in one statement: the insert (or
 * delete) of the completion, the counts, and the UPDATE of the enrollment when a row changed.
 * The statements of one WITH share one snapshot, so the recount does not see the
 * completion its own insert adds (or removes): it counts the completions in the snapshot and
 * adds (subtracts) the one `changed` returned. The snapshot is taken after the enrollment
 * lock was granted (an earlier statement of the transaction), so it holds every completion
 * of this enrollment committed before, as the separate recount statement did.
 */
function completionWithRecount(db: Kysely<DB>, enrollmentId: number, lessonId: number, now: string, done: boolean) {
  const sign = done ? sql`+` : sql`-`;
  return db
    .with('changed', (w) =>
      done
        ? w
            .insertInto('lesson_completions')
            .values({ enrollment_id: enrollmentId, lesson_id: lessonId, completed_at: now })
            .onConflict((oc) => oc.columns(['enrollment_id', 'lesson_id']).doNothing())
            .returning('id')
        : w.deleteFrom('lesson_completions').where('enrollment_id', '=', enrollmentId).where('lesson_id', '=', lessonId).returning('id'),
    )
    .with('c', (w) =>
      w
        .selectFrom('enrollments as e')
        .select((eb) => [
          'e.id',
          sql<number>`${eb
            .selectFrom('lesson_completions as lc')
            .innerJoin('lessons as l', 'l.id', 'lc.lesson_id')
            .whereRef('lc.enrollment_id', '=', 'e.id')
            .whereRef('l.course_id', '=', 'e.course_id')
            .select((inner) => inner.fn.countAll<number>().as('n'))} ${sign} (select count(*) from changed)`.as('done'),
          eb
            .selectFrom('lessons as l')
            .whereRef('l.course_id', '=', 'e.course_id')
            .select((inner) => inner.fn.countAll<number>().as('n'))
            .as('total'),
        ])
        .where('e.id', '=', enrollmentId),
    )
    .with('updated', (w) =>
      w
        .updateTable('enrollments')
        .from('c')
        .set(progressSet(now))
        .whereRef('enrollments.id', '=', 'c.id')
        .where(sql<boolean>`exists (select 1 from changed)`)
        .returning(ENROLLMENT_COLUMNS.map((column) => `enrollments.${column}` as const)),
    )
    .selectFrom('c')
    .leftJoin('updated as u', 'u.id', 'c.id')
    .select([
      sql<number>`(select count(*) from changed)`.as('changed'),
      'c.total',
      ...ENROLLMENT_COLUMNS.map((column) => `u.${column}` as const),
    ]);
}
const markWithRecount = preparedQuery((db, enrollmentId: number, lessonId: number, now: string) =>
  completionWithRecount(db, enrollmentId, lessonId, now, true),
);
const unmarkWithRecount = preparedQuery((db, enrollmentId: number, lessonId: number, now: string) =>
  completionWithRecount(db, enrollmentId, lessonId, now, false),
);

/** On SQLite, which cannot write in a WITH nor return the FROM side: the recount answering with its row. */
const recountReturning = preparedQuery((db, enrollmentId: number, now: string) =>
  progressUpdate(db, 'enrollment', enrollmentId, now).returning([...ENROLLMENT_COLUMNS]),
);

export interface CompletionChange {
  /** Whether a completion was inserted (marking) or deleted (unmarking). */
  changed: boolean;
  /** The enrollment after the recount; undefined when nothing changed (nothing was recounted). */
  enrollment: EnrollmentRow | undefined;
  /** Lessons of the course now: the recount's denominator. */
  totalLessons: number;
}

/**
 * Marks (`done`) or unmarks a lesson for a locked enrollment and, when that changed a row,
 * recounts it (as refreshProgress); answers with the new row and the course's lesson count.
 * PostgreSQL: one statement (completionWithRecount). SQLite: the insert or delete, then the
 * recount or the count, in process.
 */
export async function applyCompletion(
  db: Executor,
  enrollment: { id: number; course_id: number },
  lessonId: number,
  done: boolean,
  now: string,
): Promise<CompletionChange> {
  if (isPostgres(db)) {
    const [row] = await (done ? markWithRecount : unmarkWithRecount)(db, enrollment.id, lessonId, now);
    if (!row) return { changed: false, enrollment: undefined, totalLessons: await lessonsCount(db, enrollment.course_id) };
    const { changed, total, ...updated } = row;
    return {
      changed: Number(changed) > 0,
      enrollment: updated.id === null ? undefined : (updated as EnrollmentRow),
      totalLessons: Number(total),
    };
  }
  const changed = done ? await insertCompletion(db, enrollment.id, lessonId, now) : await deleteCompletion(db, enrollment.id, lessonId);
  const [row] = changed ? await recountReturning(db, enrollment.id, now) : [];
  return { changed, enrollment: row, totalLessons: await lessonsCount(db, enrollment.course_id) };
}

/** Marks a lesson done; a second mark changes nothing. True when this call marked it. */
const completionInsert = preparedQuery((db, enrollmentId: number, lessonId: number, now: string) =>
  db
    .insertInto('lesson_completions')
    .values({ enrollment_id: enrollmentId, lesson_id: lessonId, completed_at: now })
    .onConflict((oc) => oc.columns(['enrollment_id', 'lesson_id']).doNothing())
    .returning('id'),
);
export async function insertCompletion(db: Executor, enrollmentId: number, lessonId: number, now: string): Promise<boolean> {
  return (await completionInsert(db, enrollmentId, lessonId, now)).length > 0;
}

/** Enrollments of a course not completed yet: those a recount may complete. */
export async function incompleteOfCourse(db: Executor, courseId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('enrollments')
    .select('id')
    .where('course_id', '=', courseId)
    .where('completed_at', 'is', null)
    .execute();
  return rows.map((r) => r.id);
}

/** Of these enrollments, the completed ones. */
export function completedAmong(db: Executor, ids: number[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('enrollments').selectAll().where('id', 'in', ids).where('completed_at', 'is not', null).execute();
}

/** Unmarks a lesson. True when this call removed a completion. */
const completionDelete = preparedQuery((db, enrollmentId: number, lessonId: number) =>
  db.deleteFrom('lesson_completions').where('enrollment_id', '=', enrollmentId).where('lesson_id', '=', lessonId).returning('id'),
);
export async function deleteCompletion(db: Executor, enrollmentId: number, lessonId: number): Promise<boolean> {
  return (await completionDelete(db, enrollmentId, lessonId)).length > 0;
}

export function completionsOf(db: Executor, enrollmentId: number) {
  return db.selectFrom('lesson_completions').select(['lesson_id', 'completed_at']).where('enrollment_id', '=', enrollmentId).execute();
}

const lessonsOfCourse = preparedQuery((db, courseId: number) =>
  db
    .selectFrom('lessons')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('course_id', '=', courseId),
);
export async function lessonsCount(db: Executor, courseId: number): Promise<number> {
  const [row] = await lessonsOfCourse(db, courseId);
  return Number(row!.n);
}

const totalLessons = (eb: ExpressionBuilder<DB, 'enrollments'>) =>
  eb
    .selectFrom('lessons')
    .whereRef('lessons.course_id', '=', 'enrollments.course_id')
    .select((inner) => inner.fn.countAll<number>().as('n'))
    .as('total_lessons');

/**
 * A student's enrollments in published courses (a draft exists only for its owner and
 * admins), with the course title and its current number of lessons.
 */
function ofStudent(db: Executor, studentId: number) {
  return db
    .selectFrom('enrollments')
    .innerJoin('courses', 'courses.id', 'enrollments.course_id')
    .where('enrollments.student_id', '=', studentId)
    .where('courses.is_published', '=', true);
}

export function findOfStudent(db: Executor, studentId: number, courseId: number) {
  return ofStudent(db, studentId)
    .where('enrollments.course_id', '=', courseId)
    .selectAll('enrollments')
    .select((eb) => ['courses.title', totalLessons(eb)])
    .executeTakeFirst();
}
export type StudentEnrollmentRow = NonNullable<Awaited<ReturnType<typeof findOfStudent>>>;

/** Newest first. */
const ofStudentList = preparedList((db, _shape: null, values: { studentId: number }) =>
  ofStudent(db, values.studentId)
    .selectAll('enrollments')
    .select((eb) => ['courses.title', totalLessons(eb)])
    .orderBy('enrollments.enrolled_on', 'desc')
    .orderBy('enrollments.id', 'asc'),
);
export function listOfStudent(db: Executor, studentId: number) {
  return ofStudentList(db, null, { studentId });
}

/** The students of a course with their progress, newest enrollment first. */
export function listOfCourse(db: Executor, courseId: number) {
  return listQuery(
    db
      .selectFrom('enrollments')
      .where('course_id', '=', courseId)
      .innerJoin('users', 'users.id', 'enrollments.student_id')
      .select([
        'enrollments.enrolled_on',
        'enrollments.progress',
        'enrollments.completed_at',
        'users.id',
        'users.username',
        'users.first_name',
        'users.last_name',
        'users.bio',
        'users.profile_image',
      ])
      .orderBy('enrollments.enrolled_on', 'desc')
      .orderBy('enrollments.id', 'asc'),
  );
}

/**
 * Whether every lesson of the course before `position` is completed by this enrollment
 * (true for the first lesson): what a sequential course asks before opening a lesson.
 */
export async function previousCompleted(db: Executor, enrollmentId: number, courseId: number, position: number): Promise<boolean> {
  const open = await db
    .selectFrom('lessons as earlier')
    .select('earlier.id')
    .where('earlier.course_id', '=', courseId)
    .where('earlier.position', '<', position)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('lesson_completions as done')
            .select('done.id')
            .where('done.enrollment_id', '=', enrollmentId)
            .whereRef('done.lesson_id', '=', 'earlier.id'),
        ),
      ),
    )
    .limit(1)
    .executeTakeFirst();
  return open === undefined;
}

/** Lessons of the course this student completed (completions of lessons still in the course). */
export async function completedLessonIds(db: Executor, studentId: number, courseId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('lesson_completions as lc')
    .innerJoin('enrollments as e', 'e.id', 'lc.enrollment_id')
    .select('lc.lesson_id')
    .where('e.student_id', '=', studentId)
    .where('e.course_id', '=', courseId)
    .execute();
  return rows.map((r) => r.lesson_id);
}

/**
 * Everything the position heartbeat needs in one read: the lesson, its course's visibility
 * facts, the caller's enrollment in it (or null) and whether they completed the lesson.
 */
export function positionFacts(db: Executor, lessonId: number, studentId: number) {
  return db
    .selectFrom('lessons as l')
    .innerJoin('courses as c', 'c.id', 'l.course_id')
    .leftJoin('enrollments as e', (join) => join.onRef('e.course_id', '=', 'l.course_id').on('e.student_id', '=', studentId))
    .leftJoin('lesson_completions as lc', (join) => join.onRef('lc.enrollment_id', '=', 'e.id').onRef('lc.lesson_id', '=', 'l.id'))
    .select([
      'l.id',
      'l.course_id',
      'l.position',
      'l.duration',
      'l.is_preview',
      'c.instructor_id',
      'c.is_published',
      'c.sequential',
      'e.id as enrollment_id',
      'lc.id as completion_id',
    ])
    .where('l.id', '=', lessonId)
    .executeTakeFirst();
}

/**
 * The heartbeat's one write: where the student is in the lesson, and when they said so.
 * An upsert on (enrollment, lesson): no lock beyond its own row, no transaction of its own.
 */
export async function savePosition(db: Executor, enrollmentId: number, lessonId: number, position: number, now: string): Promise<void> {
  await db
    .insertInto('lesson_positions')
    .values({ enrollment_id: enrollmentId, lesson_id: lessonId, position, updated_at: now })
    .onConflict((oc) =>
      oc
        .columns(['enrollment_id', 'lesson_id'])
        .doUpdateSet((eb) => ({ position: eb.ref('excluded.position'), updated_at: eb.ref('excluded.updated_at') })),
    )
    .execute();
}

export function positionsOf(db: Executor, enrollmentId: number) {
  return db
    .selectFrom('lesson_positions')
    .select(['lesson_id', 'position', 'updated_at'])
    .where('enrollment_id', '=', enrollmentId)
    .execute();
}
