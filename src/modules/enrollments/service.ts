import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { nowIso, toIso, toIsoOrNull } from '../../shared/time.js';
import * as repo from './repository.js';

export interface EnrollmentsServiceDeps {
  db: Kysely<DB>;
}

export type EnrollmentsService = ReturnType<typeof createEnrollmentsService>;

export function createEnrollmentsService(deps: EnrollmentsServiceDeps) {
  const { db } = deps;

  return {
    async isEnrolled(studentId: number, courseId: number): Promise<boolean> {
      return (await repo.findEnrollment(db, studentId, courseId)) !== undefined;
    },

    /** The caller's enrollment as a course detail shows it, or null. */
    async summaryFor(studentId: number, courseId: number): Promise<{ progress: number; enrolled_on: string; completed_at: string | null } | null> {
      const row = await repo.findEnrollment(db, studentId, courseId);
      return row ? { progress: row.progress, enrolled_on: toIso(row.enrolled_on), completed_at: toIsoOrNull(row.completed_at) } : null;
    },

    /**
     * Recomputes progress and completed_at of every enrollment of a course, set-based.
     * Call it inside the transaction that inserts or deletes one of its lessons, after that
     * change: on PostgreSQL it then locks the course's enrollments, so take locks in the
     * order lesson → course → enrollments to stay clear of deadlocks.
     */
    async recomputeCourseProgress(trx: Kysely<DB> | Transaction<DB>, courseId: number): Promise<void> {
      await repo.refreshProgress(trx, { courseId }, nowIso());
    },
  };
}
