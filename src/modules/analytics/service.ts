import type { Kysely } from 'kysely';
import { isPostgres } from '../../db/index.js';
import type { Executor } from '../../db/query.js';
import type { DB } from '../../db/types.js';
import type { RequestContext, UserContext } from '../../shared/context.js';
import { forbidden, notFound } from '../../shared/errors.js';
import { dayRange } from './days.js';
import type { DayRange } from './days.js';
import { courseAnalyticsAccess, summaryScope } from './policy.js';
import * as repo from './repository.js';
import type { AnalyticsQueryInput, CourseAnalytics, InstructorSummary } from './schemas.js';

export interface AnalyticsServiceDeps {
  db: Kysely<DB>;
  /** The clock that says which day is today (tests may pin it). */
  now?: () => Date;
}

/** part ÷ whole as a percent, 2 places (0 when whole is 0). */
export const percent = (part: number, whole: number): number => (whole === 0 ? 0 : Math.round((part * 10_000) / whole) / 100);

/** Every day of the range with its count, zeros included. */
const filledDays = (range: DayRange, counts: Map<string, number>) => range.days.map((date) => ({ date, count: counts.get(date) ?? 0 }));

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;

/**
 * Instructor insight: course analytics and the instructor summary, computed at each request
 * from counters the database keeps exact in the transactions that change their rows (no
 * cache), all figures of one answer read in one snapshot.
 */
export function createAnalyticsService(deps: AnalyticsServiceDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  /** One consistent snapshot: a read-only repeatable-read transaction on PostgreSQL; SQLite's transaction is one already. */
  function snapshot<T>(work: (trx: Executor) => Promise<T>): Promise<T> {
    const trx = db.transaction();
    return (isPostgres(db) ? trx.setIsolationLevel('repeatable read').setAccessMode('read only') : trx).execute(work);
  }

  return {
    /** The course's owner and admins (others 403; someone else's draft 404). */
    async course(ctx: UserContext, courseId: number, query: AnalyticsQueryInput): Promise<CourseAnalytics> {
      const range = dayRange(query, now());
      return snapshot(async (trx) => {
        const figures = await repo.courseFigures(trx, courseId);
        const access = figures ? courseAnalyticsAccess(ctx.viewer, figures.facts) : 'not_found';
        if (!figures || access === 'not_found') throw notFound();
        if (access === 'forbidden')
          throw forbidden('Only the instructor of this course or an admin may read its analytics.', 'not_course_owner');
        const { students, completed, progressSum } = figures;
        const days = await repo.enrollmentsByDay(trx, { courseId }, range.from, range.to);
        const lessons = await repo.lessonCompletions(trx, courseId);
        const quizzes = await repo.quizFigures(trx, courseId);
        return {
          students_count: students,
          completed_count: completed,
          completion_rate: percent(completed, students),
          // The mean of progress (2 places each) is progressSum ÷ 100 ÷ students; rounded half up, as SQL's round.
          average_progress: students === 0 ? 0 : Math.round(progressSum / students) / 100,
          enrollments_by_day: filledDays(range, days),
          lessons: lessons.map((lesson) => ({
            id: lesson.id,
            title: lesson.title,
            order: lesson.position,
            completed_count: Number(lesson.completed ?? 0),
            completion_rate: percent(Number(lesson.completed ?? 0), students),
          })),
          rating_histogram: figures.ratings,
          quizzes: quizzes.map((quiz) => ({
            lesson: quiz.lesson,
            attempts: quiz.attempts,
            students: quiz.students,
            pass_rate: percent(quiz.passed, quiz.students),
            average_score: quiz.averageScore === null ? null : Math.round(quiz.averageScore * 100) / 100,
          })),
        };
      });
    },

    /** Instructors: their own courses; admins: every course; anyone else 403. */
    async summary(ctx: RequestContext, query: AnalyticsQueryInput): Promise<InstructorSummary> {
      const range = dayRange(query, now());
      const scope = summaryScope(ctx.viewer);
      if (!scope) throw forbidden('Only instructors and admins have a summary.');
      return snapshot(async (trx) => {
        const sums = await repo.courseSums(trx, scope);
        const enrolled = await repo.enrolledPerCourse(trx, scope);
        // One course with students: its count is the distinct count; several: a student may be in more than one.
        const students =
          enrolled.length <= 1
            ? (enrolled[0]?.students ?? 0)
            : await repo.distinctStudents(
                trx,
                enrolled.map((row) => row.courseId),
              );
        const days = await repo.enrollmentsByDay(trx, scope, range.from, range.to);
        return {
          courses_count: sums.courses,
          published_count: sums.published,
          students_count: students,
          reviews_count: sums.reviews,
          average_rating: sums.reviews === 0 ? null : Math.round((sums.ratingSum * 100) / sums.reviews) / 100,
          enrollments_by_day: filledDays(range, days),
        };
      });
    },
  };
}
