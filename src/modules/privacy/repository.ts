import type { Executor } from '../../db/query.js';
import type { UserUpdate } from '../../db/types.js';
import { caseKey } from '../../shared/text-key.js';

export function findUser(db: Executor, id: number) {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export function enrollmentsOf(db: Executor, studentId: number) {
  return db
    .selectFrom('enrollments')
    .innerJoin('courses', 'courses.id', 'enrollments.course_id')
    .select([
      'enrollments.id',
      'enrollments.course_id',
      'courses.title',
      'enrollments.enrolled_on',
      'enrollments.progress',
      'enrollments.completed_lessons',
      'enrollments.completed_at',
    ])
    .where('enrollments.student_id', '=', studentId)
    .orderBy('enrollments.id', 'asc')
    .execute();
}

export function completionsOf(db: Executor, studentId: number) {
  return db
    .selectFrom('lesson_completions')
    .innerJoin('enrollments', 'enrollments.id', 'lesson_completions.enrollment_id')
    .innerJoin('lessons', 'lessons.id', 'lesson_completions.lesson_id')
    .select(['lesson_completions.enrollment_id', 'lessons.id as lesson_id', 'lessons.title', 'lesson_completions.completed_at'])
    .where('enrollments.student_id', '=', studentId)
    .orderBy('lesson_completions.id', 'asc')
    .execute();
}

export function reviewsOf(db: Executor, studentId: number) {
  return db
    .selectFrom('reviews')
    .innerJoin('courses', 'courses.id', 'reviews.course_id')
    .select([
      'reviews.id',
      'reviews.course_id',
      'courses.title',
      'reviews.rating',
      'reviews.comment',
      'reviews.created_at',
      'reviews.updated_at',
    ])
    .where('reviews.student_id', '=', studentId)
    .orderBy('reviews.id', 'asc')
    .execute();
}

/** Times and addresses only: never a token or a token id. */
export function sessionsOf(db: Executor, userId: number) {
  return db
    .selectFrom('sessions')
    .select(['created_at', 'expires_at', 'revoked_at', 'ip'])
    .where('user_id', '=', userId)
    .orderBy('created_at', 'asc')
    .execute();
}

export async function ownsCourses(db: Executor, userId: number): Promise<boolean> {
  return (await db.selectFrom('courses').select('id').where('instructor_id', '=', userId).limit(1).executeTakeFirst()) !== undefined;
}

export async function usernameTaken(db: Executor, username: string, exceptId: number): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('username_key', '=', caseKey(username))
    .where('id', '!=', exceptId)
    .executeTakeFirst();
  return row !== undefined;
}

/** The case keys follow the new name and email, so the old ones are free again. */
export function anonymise(db: Executor, id: number, changes: UserUpdate & { username: string; email: string }) {
  const keyed = { ...changes, username_key: caseKey(changes.username), email_key: caseKey(changes.email) };
  return db.updateTable('users').set(keyed).where('id', '=', id).returningAll().executeTakeFirst();
}
