import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';

type Executor = Kysely<DB> | Transaction<DB>;

export function findById(db: Executor, id: number) {
  return db.selectFrom('lessons').selectAll().where('id', '=', id).executeTakeFirst();
}

export function outlineOfCourse(db: Executor, courseId: number) {
  return db
    .selectFrom('lessons')
    .select(['id', 'title', 'position', 'duration', 'is_preview'])
    .where('course_id', '=', courseId)
    .orderBy('position', 'asc')
    .orderBy('id', 'asc')
    .execute();
}

export function filesOfCourse(db: Executor, courseId: number) {
  return db.selectFrom('lessons').select(['video', 'attachment']).where('course_id', '=', courseId).execute();
}
