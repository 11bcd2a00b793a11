import type { FastifyInstance } from 'fastify';
import type { CourseRow, LessonRow } from '../../src/db/types.js';
import { nowIso } from '../../src/shared/time.js';
import { createInstructor, unique } from './factories.js';
import type { TestUser } from './factories.js';
import { caseKey } from '../../src/shared/text-key.js';

/**
 * Courses and lessons written straight through the data layer, so enrollment, progress and
 * review tests need nothing of the course and lesson endpoints but their rows.
 */
export async function createCourse(
  app: FastifyInstance,
  overrides: { instructor?: TestUser; is_published?: boolean; title?: string } = {},
): Promise<CourseRow & { owner: TestUser }> {
  const { db } = app.database;
  const owner = overrides.instructor ?? (await createInstructor(app));
  const name = unique('cat');
  const category = await db
    .insertInto('categories')
    .values({ name, name_key: caseKey(name), slug: name, description: '' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const now = nowIso();
  const course = await db
    .insertInto('courses')
    .values({
      title: overrides.title ?? unique('Course '),
      description: '',
      price_cents: 0,
      category_id: category.id,
      instructor_id: owner.user.id,
      thumbnail: null,
      is_published: overrides.is_published ?? true,
      average_rating: null,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ...course, owner };
}

/** A lesson appended to the course, with the course's lesson counters kept as the lessons module keeps them. */
export async function createLesson(
  app: FastifyInstance,
  courseId: number,
  overrides: { title?: string; is_preview?: boolean; duration?: number } = {},
): Promise<LessonRow> {
  return app.database.db.transaction().execute(async (trx) => {
    const last = await trx
      .selectFrom('lessons')
      .select((eb) => eb.fn.max('position').as('max'))
      .where('course_id', '=', courseId)
      .executeTakeFirst();
    const now = nowIso();
    const duration = overrides.duration ?? 60;
    const lesson = await trx
      .insertInto('lessons')
      .values({
        course_id: courseId,
        title: overrides.title ?? unique('Lesson '),
        content: '',
        position: Number(last?.max ?? 0) + 1,
        duration,
        is_preview: overrides.is_preview ?? false,
        video: null,
        attachment: null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('courses')
      .set((eb) => ({ lessons_count: eb('lessons_count', '+', 1), total_duration: eb('total_duration', '+', duration) }))
      .where('id', '=', courseId)
      .execute();
    await app.services.enrollments.recomputeCourseProgress(trx, courseId);
    return lesson;
  });
}

/** Removes a lesson the way the lessons module does: in one transaction with the progress recount. */
export async function deleteLesson(app: FastifyInstance, lesson: LessonRow): Promise<void> {
  await app.database.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('lessons').where('id', '=', lesson.id).execute();
    await trx
      .updateTable('courses')
      .set((eb) => ({ lessons_count: eb('lessons_count', '-', 1), total_duration: eb('total_duration', '-', lesson.duration) }))
      .where('id', '=', lesson.course_id)
      .execute();
    await app.services.enrollments.recomputeCourseProgress(trx, lesson.course_id);
  });
}

export async function createLessons(app: FastifyInstance, courseId: number, count: number): Promise<LessonRow[]> {
  const lessons: LessonRow[] = [];
  for (let i = 0; i < count; i++) lessons.push(await createLesson(app, courseId));
  return lessons;
}

/** The counters as the courses table holds them. */
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

/** A JSON request through inject() as this user (or anonymous); the body parsed. */
export async function api(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  as?: TestUser,
  payload?: Record<string, unknown>,
) {
  const res = await app.inject({ method, url, ...(as ? { headers: as.headers } : {}), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
}

export const enroll = (app: FastifyInstance, student: TestUser, courseId: number) => api(app, 'POST', `/api/enroll/${courseId}/`, student);
export const completeLesson = (app: FastifyInstance, student: TestUser, lessonId: number) =>
  api(app, 'POST', `/api/lessons/${lessonId}/complete/`, student);
