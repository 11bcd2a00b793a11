/**
 * What a user does through the API, with every effect the API has (counters, progress), as
 * opposed to the factories, which write rows only. Each returns call()'s result.
 */
import type { FastifyInstance } from 'fastify';
import type { TestUser } from './factories.js';
import { call } from './http.js';

/** POST /api/enroll/{id}/: the enrollment row and the course's students_count. */
export const enrollViaApi = (app: FastifyInstance, student: TestUser, courseId: number) =>
  call(app, 'POST', `/api/enroll/${courseId}/`, { as: student });

/** POST /api/lessons/{id}/complete/: the completion and the enrollment's progress. */
export const completeLessonViaApi = (app: FastifyInstance, student: TestUser, lessonId: number) =>
  call(app, 'POST', `/api/lessons/${lessonId}/complete/`, { as: student });

/** POST /api/reviews/: the review and the course's rating aggregates. */
export const reviewViaApi = (app: FastifyInstance, student: TestUser | undefined, body: Record<string, unknown>) =>
  call(app, 'POST', '/api/reviews/', { ...(student ? { as: student } : {}), body });

/** The counters as the courses table holds them (what the API effects above must keep right). */
export async function courseCounters(app: FastifyInstance, courseId: number) {
  const row = await app.database.db
    .selectFrom('courses')
    .select(['students_count', 'reviews_count', 'rating_sum', 'average_rating', 'lessons_count'])
    .where('id', '=', courseId)
    .executeTakeFirstOrThrow();
  return {
    students_count: Number(row.students_count),
    reviews_count: Number(row.reviews_count),
    rating_sum: Number(row.rating_sum),
    average_rating: row.average_rating === null ? null : Number(row.average_rating),
    lessons_count: Number(row.lessons_count),
  };
}
