import type { Kysely } from 'kysely';
import { writeTransaction } from '../../db/transaction.js';
import type { Executor } from '../../db/query.js';
import type { DB, UserRow } from '../../db/types.js';
import type { Storage } from '../../storage/index.js';
import type { RequestContext, UserContext } from '../../shared/context.js';
import { HttpError, conflict, invalidField, notFound } from '../../shared/errors.js';
import { toIso, toIsoOrNull } from '../../shared/time.js';
import type { AuditEntry } from '../audit/service.js';
import { verifyPassword } from '../users/passwords.js';
import type { User } from '../users/schemas.js';
import * as repo from './repository.js';
import type { DataExport } from './schemas.js';

/** What this module needs of the users module. */
export interface UsersPort {
  toUser(ctx: RequestContext, row: UserRow): User;
}

/** What this module needs of the auth module. */
export interface SessionsPort {
  revokeAllSessions(userId: number): Promise<void>;
}

/** What this module needs of the enrollments module: unenrolling keeps students_count exact and records the event. */
export interface EnrollmentsPort {
  unenroll(ctx: UserContext, courseId: number): Promise<void>;
}

export interface WebhooksPort {
  removeAllOf(trx: Executor, ownerId: number): Promise<void>;
}

export interface AuditPort {
  record(trx: Executor, ctx: RequestContext, entry: AuditEntry): Promise<void>;
}

/** A module that keeps a user's own records (quizzes, certificates): what it exports, and removal at erasure. */
export interface PersonalRecordsPort {
  exportFor(userId: number): Promise<Record<string, unknown>[]>;
  eraseFor?(ctx: UserContext): Promise<void>;
}

export interface PrivacyServiceDeps {
  db: Kysely<DB>;
  storage: Pick<Storage, 'delete'>;
  audit: AuditPort;
  users: () => UsersPort;
  auth: () => SessionsPort;
  enrollments: () => EnrollmentsPort;
  webhooks: () => WebhooksPort;
  /** Absent until those modules exist: their lists are empty. */
  quizzes?: () => PersonalRecordsPort;
  certificates?: () => PersonalRecordsPort;
}

const WRONG_PASSWORD = 'Your password was entered incorrectly.';
const OWNS_COURSES = 'You still own courses; delete them or hand them over before erasing your account.';

export type PrivacyService = ReturnType<typeof createPrivacyService>;

export function createPrivacyService(deps: PrivacyServiceDeps) {
  const { db } = deps;

  async function activeUser(id: number): Promise<UserRow> {
    const row = await repo.findUser(db, id);
    if (!row) throw notFound();
    return row;
  }

  return {
    /** Everything the platform keeps about the caller, in one document. */
    async exportData(ctx: UserContext): Promise<DataExport> {
      const id = ctx.viewer.id;
      const user = await activeUser(id);
      const [enrollments, completions, reviews, sessions, quizAttempts, certificates] = await Promise.all([
        repo.enrollmentsOf(db, id),
        repo.completionsOf(db, id),
        repo.reviewsOf(db, id),
        repo.sessionsOf(db, id),
        deps.quizzes ? deps.quizzes().exportFor(id) : Promise.resolve([]),
        deps.certificates ? deps.certificates().exportFor(id) : Promise.resolve([]),
      ]);
      return {
        profile: deps.users().toUser(ctx, user),
        enrollments: enrollments.map((e) => ({
          id: e.id,
          course: { id: e.course_id, title: e.title },
          enrolled_on: toIso(e.enrolled_on),
          progress: e.progress,
          completed_lessons: e.completed_lessons,
          completed_at: toIsoOrNull(e.completed_at),
          lesson_completions: completions
            .filter((c) => c.enrollment_id === e.id)
            .map((c) => ({ lesson: { id: c.lesson_id, title: c.title }, completed_at: toIso(c.completed_at) })),
        })),
        quiz_attempts: quizAttempts,
        reviews: reviews.map((r) => ({
          id: r.id,
          course: { id: r.course_id, title: r.title },
          rating: r.rating,
          comment: r.comment,
          created_at: toIso(r.created_at),
          updated_at: toIso(r.updated_at),
        })),
        certificates,
        sessions: sessions.map((s) => ({
          created_at: toIso(s.created_at),
          expires_at: toIso(s.expires_at),
          revoked_at: toIsoOrNull(s.revoked_at),
          ip: s.ip,
        })),
      };
    },

    /**
     * Erases the caller's account. The password proves it is them; an instructor who still
     * owns courses is refused (409). Then: every session dies; each enrollment is removed
     * through the enrollments module (so course counters stay exact and enrollment.deleted
     * is sent), certificates through theirs; and in one transaction the account is
     * anonymised — username `deleted-<id>`, email `deleted-<id>@invalid` (a domain no
     * registration accepts, so it can never collide or match a login), names, bio and image
     * cleared, no usable password, inactive — its webhooks deleted and `user.erased` audited.
     * Reviews stay, with their ratings, under the anonymised user. Steps before the
     * transaction are each complete on their own: an interrupted erasure is finished by
     * asking again.
     */
    async erase(ctx: UserContext, password: string): Promise<void> {
      const id = ctx.viewer.id;
      const user = await activeUser(id);
      if (!(await verifyPassword(user.password_hash, password))) throw invalidField('password', WRONG_PASSWORD, 'wrong_password');
      if (await repo.ownsCourses(db, id)) throw conflict(OWNS_COURSES, 'owns_courses');
      // No request of this account is served from here on.
      await deps.auth().revokeAllSessions(id);
      for (const enrollment of await repo.enrollmentsOf(db, id)) {
        try {
          await deps.enrollments().unenroll(ctx, enrollment.course_id);
        } catch (error) {
          // Gone meanwhile: nothing left to remove.
          if (!(error instanceof HttpError && error.statusCode === 404)) throw error;
        }
      }
      await deps.certificates?.().eraseFor?.(ctx);
      await deps.quizzes?.().eraseFor?.(ctx);
      const erased = await writeTransaction(db, async (trx) => {
        if (await repo.ownsCourses(trx, id)) throw conflict(OWNS_COURSES, 'owns_courses');
        // Someone may have registered the name first: then it gets a suffix.
        let username = `deleted-${id}`;
        if (await repo.usernameTaken(trx, username, id)) username = `deleted-${id}-${Date.now().toString(36)}`;
        const row = await repo.anonymise(trx, id, {
          username,
          email: `deleted-${id}@invalid`,
          first_name: '',
          last_name: '',
          bio: '',
          profile_image: null,
          // Not a hash any password verifies against.
          password_hash: '!erased',
          is_active: false,
        });
        if (!row) throw notFound();
        await deps.webhooks().removeAllOf(trx, id);
        await deps.audit.record(trx, ctx, { action: 'user.erased', target: { type: 'user', id }, data: { role: user.role } });
        return row;
      });
      // Sessions started between the first revocation and the anonymisation die too.
      await deps.auth().revokeAllSessions(id);
      if (user.profile_image && user.profile_image !== erased.profile_image)
        await deps.storage.delete(user.profile_image).catch(() => undefined);
    },
  };
}
