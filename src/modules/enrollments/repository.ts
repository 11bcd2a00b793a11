import { sql } from 'kysely';
import type { ExpressionBuilder, Kysely } from 'kysely';
import { isPostgres } from '../../db/index.js';
import { preparedList, preparedQuery } from '../../db/prepared.js';
import { forKeyShare, forUpdate, listQuery } from '../../db/query.js';
import type { Executor } from '../../db/query.js';
import type { DB } from '../../db/types.js';

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

/**
 * Holds the lesson (PostgreSQL: FOR KEY SHARE) so it cannot be deleted until the transaction
 * ends, the same lock the completion's foreign key would take, taken first. Undefined if gone.
 */
const lessonKeyOf = preparedQuery((db, lessonId: number) =>
  forKeyShare(db, db.selectFrom('lessons').select(['id', 'course_id']).where('id', '=', lessonId)),
);
export async function lockLessonKey(db: Executor, lessonId: number) {
  return (await lessonKeyOf(db, lessonId))[0];
}

/** Locks every enrollment of a course, so a recount cannot miss a completion committed meanwhile. */
async function lockEnrollmentsOfCourse(db: Executor, courseId: number): Promise<void> {
  if (!isPostgres(db)) return;
  await db.selectFrom('enrollments').select('id').where('course_id', '=', courseId).orderBy('id').forUpdate().execute();
}

/**
 * Recounts completed lessons and recomputes progress and completed_at, in one UPDATE for
 * every enrollment in scope: progress = 100 × completed ÷ lessons of the course now,
 * rounded to 2 places, 0 without lessons; completed_at is set the first time every lesson
 * is done and kept afterwards. Completions count only for lessons still in the course.
 * Same SQL on both databases (UPDATE … FROM: PostgreSQL, SQLite ≥ 3.33).
 */
export async function refreshProgress(db: Executor, scope: { courseId: number } | { enrollmentId: number }, now: string): Promise<void> {
  if ('courseId' in scope) {
    await lockEnrollmentsOfCourse(db, scope.courseId);
    await refreshOfCourse(db, scope.courseId, now);
  } else {
    await refreshOfEnrollment(db, scope.enrollmentId, now);
  }
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
  return db
    .updateTable('enrollments')
    .from(counts.as('c'))
    .set({
      completed_lessons: sql<number>`c.done`,
      progress: sql<number>`case when c.total = 0 then 0 when c.done >= c.total then 100 else round(100.0 * c.done / c.total, 2) end`,
      completed_at: sql<string>`case when enrollments.completed_at is null and c.total > 0 and c.done >= c.total then ${now} else enrollments.completed_at end`,
    })
    .whereRef('enrollments.id', '=', 'c.id');
}
const refreshOfCourse = preparedQuery((db, courseId: number, now: string) => progressUpdate(db, 'course', courseId, now));
const refreshOfEnrollment = preparedQuery((db, enrollmentId: number, now: string) => progressUpdate(db, 'enrollment', enrollmentId, now));

/*
 * The recount of one enrollment that answers with the row it wrote, so a completion needs no
 * second read. PostgreSQL also returns the lesson count the recount used (`c.total`); SQLite
 * may not name the FROM side in RETURNING, so there the count is one more (in-process,
 * synchronous) statement.
 */
const recountReturning = preparedQuery((db, enrollmentId: number, now: string) =>
  isPostgres(db)
    ? progressUpdate(db, 'enrollment', enrollmentId, now).returning([
        'enrollments.id',
        'enrollments.student_id',
        'enrollments.course_id',
        'enrollments.enrolled_on',
        'enrollments.progress',
        'enrollments.completed_lessons',
        'enrollments.completed_at',
        sql<number | null>`c.total`.as('total_lessons'),
      ])
    : progressUpdate(db, 'enrollment', enrollmentId, now).returning([
        'id',
        'student_id',
        'course_id',
        'enrolled_on',
        'progress',
        'completed_lessons',
        'completed_at',
        sql<number | null>`null`.as('total_lessons'),
      ]),
);

/** Recounts one enrollment (as refreshProgress) and returns its new row and the course's number of lessons. */
export async function recountEnrollment(db: Executor, enrollmentId: number, courseId: number, now: string) {
  const [row] = await recountReturning(db, enrollmentId, now);
  if (!row) return undefined;
  const { total_lessons: total, ...enrollment } = row;
  return { enrollment, totalLessons: total === null ? await lessonsCount(db, courseId) : Number(total) };
}

/**
 * A lesson with what the visibility policy needs of its course, in one read (a completion's
 * only statement before its transaction). Undefined if the lesson does not exist.
 */
const lessonWithCourse = preparedQuery((db, lessonId: number) =>
  db
    .selectFrom('lessons as l')
    .innerJoin('courses as c', 'c.id', 'l.course_id')
    .select(['l.id', 'l.course_id', 'l.position', 'l.is_preview', 'c.instructor_id', 'c.is_published', 'c.sequential'])
    .where('l.id', '=', lessonId),
);
/** A lesson with the facts of its course that a completion's policy needs. */
export async function findLessonWithCourse(db: Executor, lessonId: number) {
  const [row] = await lessonWithCourse(db, lessonId);
  return (
    row && {
      id: row.id,
      course_id: row.course_id,
      order: row.position,
      is_preview: Boolean(row.is_preview),
      instructor_id: row.instructor_id,
      is_published: Boolean(row.is_published),
      sequential: Boolean(row.sequential),
    }
  );
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
