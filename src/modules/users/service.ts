import type { Kysely } from 'kysely';
import type { DB, InstructorStatus, Role, UserRow, UserUpdate } from '../../db/types.js';
import type { StoredUpload } from '../../plugins/uploads.js';
import { FieldErrorCollector, badRequest, invalid, invalidField, notFound, unauthorized } from '../../shared/errors.js';
import { pageRequest, paginate, parseOrdering } from '../../shared/pagination.js';
import type { Page } from '../../shared/pagination.js';
import { nowIso, toBool, toIso } from '../../shared/time.js';
import type { MediaUrls } from '../media/urls.js';
import { writeTransaction } from '../../db/transaction.js';
import type { Executor } from '../../db/query.js';
import type { AuditEntry } from '../audit/service.js';
import type { RequestContext, UserContext } from '../../shared/context.js';
import { burnPasswordCheck, hashPassword, passwordProblems, verifyPassword } from './passwords.js';
import * as repo from './repository.js';
import type { AdminUserPatchInput, AdminUserQueryInput, ProfileInput, PublicUser, RegisterInput, User } from './schemas.js';

// Django's UnicodeUsernameValidator: letters and digits of any script, and @ . + - _.
const USERNAME = /^[\p{L}\p{N}\p{M}_.@+-]+$/u;
// Django's EmailValidator in spirit: one @, a dotted domain, no spaces.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const BAD_CREDENTIALS = 'No active account found with the given credentials';

/** What this module needs of the auth module: ending sessions. */
export interface SessionsPort {
  revokeAllSessions(userId: number): Promise<void>;
  revokeOtherSessions(userId: number, keepSessionId: string): Promise<void>;
}

/** What this module needs of the audit module. */
export interface AuditPort {
  record(trx: Executor, ctx: RequestContext, entry: AuditEntry): Promise<void>;
}

/** What this module needs of durable file cleanup (src/storage/cleanup.ts). */
export interface FilesPort {
  schedule(trx: Kysely<DB>, keys: readonly (string | null | undefined)[]): Promise<string[]>;
  deleteScheduled(keys: readonly string[]): Promise<void>;
}

export interface UsersServiceDeps {
  db: Kysely<DB>;
  files: FilesPort;
  media: Pick<MediaUrls, 'publicUrl'>;
  audit: AuditPort;
  auth: () => SessionsPort;
  instructorAutoApprove: boolean;
}

export type UsersService = ReturnType<typeof createUsersService>;

export function createUsersService(deps: UsersServiceDeps) {
  const { db, media } = deps;

  const toUser = (ctx: RequestContext, row: UserRow): User => ({
    id: row.id,
    username: row.username,
    email: row.email,
    first_name: row.first_name,
    last_name: row.last_name,
    bio: row.bio,
    profile_image: media.publicUrl(ctx.origin, row.profile_image),
    role: row.role,
    is_instructor: row.role === 'instructor',
    is_student: row.role === 'student',
    is_staff: row.role === 'admin',
    instructor_status: row.instructor_status,
    is_active: toBool(row.is_active),
    date_joined: toIso(row.date_joined),
  });

  const initialStatus = (role: Role): InstructorStatus =>
    role === 'instructor' ? (deps.instructorAutoApprove ? 'approved' : 'pending') : 'none';

  async function checkEmail(errors: FieldErrorCollector, email: string, exceptId?: number) {
    if (!EMAIL.test(email)) errors.add('email', 'Enter a valid email address.');
    else if (await repo.emailTaken(db, email, exceptId)) errors.add('email', 'A user with that email already exists.');
  }

  async function getRow(id: number): Promise<UserRow> {
    const row = await repo.findById(db, id);
    if (!row) throw notFound();
    return row;
  }

  async function replaceProfileImage(row: UserRow, changes: UserUpdate, upload: StoredUpload | undefined, clear: boolean) {
    if (upload) changes.profile_image = upload.key;
    else if (clear) changes.profile_image = null;
    const { updated, dropped } = await writeTransaction(db, async (trx) => {
      const updated = await repo.updateUser(trx, row.id, changes);
      if (!updated) throw notFound();
      const dropped = row.profile_image !== updated.profile_image ? await deps.files.schedule(trx, [row.profile_image]) : [];
      return { updated, dropped };
    });
    await deps.files.deleteScheduled(dropped);
    return updated;
  }

  return {
    toUser,
    toPublicUser: (
      ctx: RequestContext,
      row: Pick<UserRow, 'id' | 'username' | 'first_name' | 'last_name' | 'bio' | 'profile_image'>,
    ): PublicUser => ({
      id: row.id,
      username: row.username,
      first_name: row.first_name,
      last_name: row.last_name,
      bio: row.bio,
      profile_image: media.publicUrl(ctx.origin, row.profile_image),
    }),

    async register(ctx: RequestContext, input: RegisterInput): Promise<User> {
      const errors = new FieldErrorCollector();
      let role: Role = input.is_instructor === true ? 'instructor' : 'student';
      if (input.role !== undefined) {
        if (input.role === 'student' || input.role === 'instructor') role = input.role;
        else if (input.role === 'admin') errors.add('role', 'Admin accounts cannot be registered.');
        else errors.add('role', `"${input.role}" is not a valid choice. Choose from: student, instructor.`);
      }
      const username = input.username.trim();
      if (!USERNAME.test(username)) {
        errors.add('username', 'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.');
      } else if (EMAIL.test(username)) {
        errors.add('username', 'A username may not look like an email address.');
      } else if (await repo.usernameTaken(db, username)) {
        errors.add('username', 'A user with that username already exists.');
      }
      const email = input.email.trim();
      await checkEmail(errors, email);
      for (const problem of passwordProblems(input.password, { username, email })) errors.add('password', problem);
      errors.throwIfAny();
      try {
        const row = await repo.insertUser(db, {
          username,
          email,
          password_hash: await hashPassword(input.password),
          first_name: input.first_name ?? '',
          last_name: input.last_name ?? '',
          bio: input.bio ?? '',
          profile_image: null,
          role,
          instructor_status: initialStatus(role),
          is_active: true,
          date_joined: nowIso(),
        });
        return toUser(ctx, row);
      } catch (error) {
        // Two registrations racing for one name: the unique index decides.
        if (await repo.usernameTaken(db, username)) throw invalidField('username', 'A user with that username already exists.');
        if (await repo.emailTaken(db, email)) throw invalidField('email', 'A user with that email already exists.');
        throw error;
      }
    },

    /** Same answer for an unknown user, a wrong password and a deactivated account. */
    async checkCredentials(identifier: string, password: string): Promise<UserRow> {
      // An identifier that looks like an email is one; a username never does (refused at
      // registration), so no account can shadow another's email login.
      const given = identifier.trim();
      const row = await repo.findByLogin(db, given, EMAIL.test(given) ? 'email' : 'username');
      if (!row) {
        await burnPasswordCheck(password);
        throw unauthorized(BAD_CREDENTIALS);
      }
      const ok = await verifyPassword(row.password_hash, password);
      if (!ok || !toBool(row.is_active)) throw unauthorized(BAD_CREDENTIALS);
      return row;
    },

    async findActive(id: number) {
      const row = await repo.findById(db, id);
      return row && toBool(row.is_active) ? { id: row.id, role: row.role, instructorStatus: row.instructor_status } : undefined;
    },

    async profile(ctx: UserContext): Promise<User> {
      return toUser(ctx, await getRow(ctx.viewer.id));
    },

    async updateProfile(ctx: UserContext, input: ProfileInput, upload: StoredUpload | undefined): Promise<User> {
      const row = await getRow(ctx.viewer.id);
      const errors = new FieldErrorCollector();
      const changes: UserUpdate = {};
      if (input.email !== undefined) {
        const email = input.email.trim();
        if (email.toLowerCase() !== row.email.toLowerCase()) await checkEmail(errors, email, row.id);
        changes.email = email;
      }
      if (input.first_name !== undefined) changes.first_name = input.first_name;
      if (input.last_name !== undefined) changes.last_name = input.last_name;
      if (input.bio !== undefined) changes.bio = input.bio;
      errors.throwIfAny();
      return toUser(ctx, await replaceProfileImage(row, changes, upload, input.profile_image === null));
    },

    async changePassword(ctx: UserContext, oldPassword: string, newPassword: string): Promise<{ detail: string }> {
      const row = await getRow(ctx.viewer.id);
      if (!(await verifyPassword(row.password_hash, oldPassword))) {
        throw invalidField('old_password', 'Your old password was entered incorrectly. Please enter it again.');
      }
      const problems = passwordProblems(newPassword, row);
      if (problems.length > 0) throw invalid({ new_password: problems });
      const passwordHash = await hashPassword(newPassword);
      await writeTransaction(db, async (trx) => {
        await repo.updateUser(trx, row.id, { password_hash: passwordHash });
        await deps.audit.record(trx, ctx, { action: 'user.password_changed', target: { type: 'user', id: row.id } });
      });
      await deps.auth().revokeOtherSessions(row.id, ctx.viewer.sessionId);
      return { detail: 'Password updated successfully.' };
    },

    async list(ctx: RequestContext, query: AdminUserQueryInput): Promise<Page<User>> {
      const page = pageRequest(query);
      const ordering = parseOrdering(query.ordering, { date_joined: 'date_joined', username: 'username' } as const, '-date_joined');
      const filters = { role: query.role, instructorStatus: query.instructor_status, isActive: query.is_active, search: query.search };
      return paginate(ctx, page, repo.listUsers(db, filters, ordering), (rows) => rows.map((r) => toUser(ctx, r)));
    },

    async get(ctx: RequestContext, id: number): Promise<User> {
      return toUser(ctx, await getRow(id));
    },

    /** Role and activity live in tokens, so changing either ends the user's sessions. */
    async adminUpdate(ctx: UserContext, id: number, input: AdminUserPatchInput): Promise<User> {
      const row = await getRow(id);
      const changes: UserUpdate = {};
      if (input.first_name !== undefined) changes.first_name = input.first_name;
      if (input.last_name !== undefined) changes.last_name = input.last_name;
      if (input.bio !== undefined) changes.bio = input.bio;
      if (input.is_active !== undefined) {
        if (id === ctx.viewer.id && !input.is_active) throw invalidField('is_active', 'You cannot deactivate your own account.');
        changes.is_active = input.is_active;
      }
      if (input.role !== undefined && input.role !== row.role) {
        if (id === ctx.viewer.id) throw invalidField('role', 'You cannot change your own role.');
        changes.role = input.role;
        changes.instructor_status = initialStatus(input.role);
      }
      const updated = await writeTransaction(db, async (trx) => {
        const after = await repo.updateUser(trx, id, changes);
        if (!after) throw notFound();
        const target = { type: 'user', id };
        if (changes.is_active !== undefined && changes.is_active !== toBool(row.is_active)) {
          await deps.audit.record(trx, ctx, { action: changes.is_active ? 'user.reactivated' : 'user.deactivated', target });
        }
        if (changes.role !== undefined) {
          await deps.audit.record(trx, ctx, { action: 'user.role_changed', target, data: { from: row.role, to: changes.role } });
        }
        return after;
      });
      if (changes.role !== undefined || (changes.is_active === false && toBool(row.is_active))) {
        await deps.auth().revokeAllSessions(id);
      }
      return toUser(ctx, updated);
    },

    async setInstructorStatus(ctx: UserContext, id: number, status: 'approved' | 'rejected'): Promise<User> {
      const row = await getRow(id);
      if (row.role !== 'instructor') throw badRequest('This user is not an instructor.');
      const updated = await writeTransaction(db, async (trx) => {
        const after = await repo.updateUser(trx, id, { instructor_status: status });
        if (!after) throw notFound();
        await deps.audit.record(trx, ctx, {
          action: status === 'approved' ? 'user.approved' : 'user.rejected',
          target: { type: 'user', id },
          data: { from: row.instructor_status, to: status },
        });
        return after;
      });
      return toUser(ctx, updated);
    },

    /** For the command line: the first admin, with the same username, email and password rules. */
    async createAdmin(input: { username: string; email: string; password: string }): Promise<UserRow> {
      const errors = new FieldErrorCollector();
      if (!USERNAME.test(input.username) || input.username.length > 150 || EMAIL.test(input.username))
        errors.add('username', 'Enter a valid username.');
      else if (await repo.usernameTaken(db, input.username)) errors.add('username', 'A user with that username already exists.');
      await checkEmail(errors, input.email);
      for (const problem of passwordProblems(input.password, input)) errors.add('password', problem);
      errors.throwIfAny();
      return repo.insertUser(db, {
        username: input.username,
        email: input.email,
        password_hash: await hashPassword(input.password),
        first_name: '',
        last_name: '',
        bio: '',
        profile_image: null,
        role: 'admin',
        instructor_status: 'none',
        is_active: true,
        date_joined: nowIso(),
      });
    },
  };
}
