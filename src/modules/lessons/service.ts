import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { toBool } from '../../shared/time.js';
import * as repo from './repository.js';

export interface LessonsServiceDeps {
  db: Kysely<DB>;
}

export type LessonsService = ReturnType<typeof createLessonsService>;

export function createLessonsService(deps: LessonsServiceDeps) {
  const { db } = deps;

  return {
    /** The table of contents of a course, by order; what a course detail shows to anyone who may see it. */
    async outline(courseId: number): Promise<{ id: number; title: string; order: number; duration: number; is_preview: boolean }[]> {
      const rows = await repo.outlineOfCourse(db, courseId);
      return rows.map((r) => ({ id: r.id, title: r.title, order: r.position, duration: r.duration, is_preview: toBool(r.is_preview) }));
    },

    /** Storage keys of every file of a course's lessons, for removal after the course is deleted. */
    async storageKeysOfCourse(courseId: number): Promise<string[]> {
      const rows = await repo.filesOfCourse(db, courseId);
      return rows.flatMap((r) => [r.video, r.attachment]).filter((key): key is string => key !== null);
    },

    /** What other modules need of a lesson: which course it belongs to, and how it is read. */
    async findFacts(lessonId: number): Promise<{ id: number; course_id: number; title: string; order: number; is_preview: boolean } | undefined> {
      const row = await repo.findById(db, lessonId);
      return row && { id: row.id, course_id: row.course_id, title: row.title, order: row.position, is_preview: toBool(row.is_preview) };
    },
  };
}
