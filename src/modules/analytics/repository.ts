import { sql } from 'kysely';
import type { Executor } from '../../db/query.js';
import type { SummaryScope } from './policy.js';

/**
 * Analytics read counters the database keeps in the statement that changes their rows
 * (migration 0006): `course_enrollment_days` (enrollments, completions and progress per
 * course and UTC day of enrollment) and `lesson_completion_counts`. Every query here reads
 * a few hundred counter rows at most, whatever the number of enrollments.
 */

const num = (value: number | string | null | undefined): number => Number(value ?? 0);

/**
 * The course's visibility facts, its enrolled students, those with completed_at, the sum of
 * their progress in hundredths, and its visible reviews per rating: one statement.
 */
export async function courseFigures(db: Executor, courseId: number) {
  const days = (column: 'enrollments' | 'completed' | 'progress_sum') =>
    sql<number | string | null>`(select sum(${sql.ref(`d.${column}`)}) from course_enrollment_days d where d.course_id = c.id)`;
  const row = await db
    .selectFrom('courses as c')
    .select([
      'c.instructor_id',
      'c.is_published',
      'c.ratings_1',
      'c.ratings_2',
      'c.ratings_3',
      'c.ratings_4',
      'c.ratings_5',
      days('enrollments').as('students'),
      days('completed').as('completed'),
      days('progress_sum').as('progress_sum'),
    ])
    .where('c.id', '=', courseId)
    .executeTakeFirst();
  return (
    row && {
      facts: { instructor_id: row.instructor_id, is_published: row.is_published === true || row.is_published === 1 },
      students: num(row.students),
      completed: num(row.completed),
      progressSum: num(row.progress_sum),
      ratings: { 1: row.ratings_1, 2: row.ratings_2, 3: row.ratings_3, 4: row.ratings_4, 5: row.ratings_5 },
    }
  );
}

/** Enrollments per UTC day in [from, to], for days that have any (the service fills the gaps). */
export async function enrollmentsByDay(
  db: Executor,
  scope: { courseId: number } | SummaryScope,
  from: string,
  to: string,
): Promise<Map<string, number>> {
  let query = db
    .selectFrom('course_enrollment_days as d')
    .select((eb) => ['d.day', eb.fn.sum<number | string>('d.enrollments').as('n')])
    .where('d.day', '>=', from)
    .where('d.day', '<=', to);
  if ('courseId' in scope) query = query.where('d.course_id', '=', scope.courseId);
  else if (scope.kind === 'own') {
    const { instructorId } = scope;
    query = query.where('d.course_id', 'in', (eb) => eb.selectFrom('courses').select('id').where('instructor_id', '=', instructorId));
  }
  const rows = await query.groupBy('d.day').execute();
  return new Map(rows.map((row) => [row.day, num(row.n)]));
}

/** The course's lessons by order with how many enrolled students completed each. */
export function lessonCompletions(db: Executor, courseId: number) {
  return db
    .selectFrom('lessons as l')
    .leftJoin('lesson_completion_counts as c', 'c.lesson_id', 'l.id')
    .select(['l.id', 'l.title', 'l.position', 'c.completed'])
    .where('l.course_id', '=', courseId)
    .orderBy('l.position')
    .orderBy('l.id')
    .execute();
}

function coursesInScope(db: Executor, scope: SummaryScope) {
  const query = db.selectFrom('courses');
  return scope.kind === 'own' ? query.where('courses.instructor_id', '=', scope.instructorId) : query;
}

/** Courses, published ones, visible reviews and their rating sum, over the scope's courses. */
export async function courseSums(db: Executor, scope: SummaryScope) {
  const row = await coursesInScope(db, scope)
    .select((eb) => [
      eb.fn.countAll<number | string>().as('courses'),
      eb.fn.sum<number | string | null>(sql`case when courses.is_published then 1 else 0 end`).as('published'),
      eb.fn.sum<number | string | null>('courses.reviews_count').as('reviews'),
      eb.fn.sum<number | string | null>('courses.rating_sum').as('rating_sum'),
    ])
    .executeTakeFirst();
  return { courses: num(row?.courses), published: num(row?.published), reviews: num(row?.reviews), ratingSum: num(row?.rating_sum) };
}

/** Enrolled students per course of the scope, for courses that have any. */
export async function enrolledPerCourse(db: Executor, scope: SummaryScope) {
  let query = db
    .selectFrom('course_enrollment_days as d')
    .select((eb) => ['d.course_id', eb.fn.sum<number | string>('d.enrollments').as('n')])
    .groupBy('d.course_id')
    .having((eb) => eb.fn.sum('d.enrollments'), '>', 0);
  if (scope.kind === 'own') {
    const { instructorId } = scope;
    query = query.where('d.course_id', 'in', (eb) => eb.selectFrom('courses').select('id').where('instructor_id', '=', instructorId));
  }
  const rows = await query.execute();
  return rows.map((row) => ({ courseId: row.course_id, students: num(row.n) }));
}

/** Distinct students enrolled in any of these courses (two or more: a student may take several). */
export async function distinctStudents(db: Executor, courseIds: number[]): Promise<number> {
  const row = await db
    .selectFrom('enrollments')
    .select(sql<number | string>`count(distinct student_id)`.as('n'))
    .where('course_id', 'in', courseIds)
    .executeTakeFirst();
  return num(row?.n);
}

/**
 * Per quiz of the course's lessons, by lesson order: attempts, distinct students who
 * attempted, distinct students with a passing attempt and the mean score. An aggregate over
 * the quiz's attempts through the (quiz_id, student_id, attempt_number) index.
 */
export async function quizFigures(db: Executor, courseId: number) {
  const rows = await db
    .selectFrom('quizzes as q')
    .innerJoin('lessons as l', 'l.id', 'q.lesson_id')
    .leftJoin('quiz_attempts as a', 'a.quiz_id', 'q.id')
    .select((eb) => [
      'l.id as lesson',
      'l.position',
      eb.fn.count<number | string>('a.id').as('attempts'),
      sql<number | string>`count(distinct a.student_id)`.as('students'),
      sql<number | string>`count(distinct case when a.passed then a.student_id end)`.as('passed'),
      eb.fn.avg<number | string | null>('a.score').as('average_score'),
    ])
    .where('l.course_id', '=', courseId)
    .groupBy(['l.id', 'l.position', 'q.id'])
    .orderBy('l.position')
    .orderBy('l.id')
    .execute();
  return rows.map((row) => ({
    lesson: row.lesson,
    attempts: num(row.attempts),
    students: num(row.students),
    passed: num(row.passed),
    averageScore: row.average_score === null ? null : Number(row.average_score),
  }));
}
