import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { InstructorStatus, Role, UserRow } from '../../src/db/types.js';
import { hashPassword } from '../../src/modules/users/passwords.js';
import { nowIso } from '../../src/shared/time.js';
import { caseKey } from '../../src/shared/text-key.js';

export const PASSWORD = 'correct-horse-battery';
let passwordHash: Promise<string> | undefined;

export const unique = (prefix = 'u') => `${prefix}${randomBytes(4).toString('hex')}`;

export interface TestUser {
  user: UserRow;
  access: string;
  refresh: string;
  /** `{ authorization: 'Bearer …' }` for inject(). */
  headers: { authorization: string };
}

/**
 * A user written straight through the data layer (no argon2 per user: one hash is shared),
 * with a session already started.
 */
export async function createUser(
  app: FastifyInstance,
  overrides: { role?: Role; instructor_status?: InstructorStatus; username?: string; email?: string; is_active?: boolean } = {},
): Promise<TestUser> {
  const role = overrides.role ?? 'student';
  const username = overrides.username ?? unique(role);
  passwordHash ??= hashPassword(PASSWORD);
  const user = await app.database.db
    .insertInto('users')
    .values({
      username,
      username_key: caseKey(username),
      email: overrides.email ?? `${username}@example.com`,
      email_key: caseKey(overrides.email ?? `${username}@example.com`),
      password_hash: await passwordHash,
      first_name: '',
      last_name: '',
      bio: '',
      profile_image: null,
      role,
      instructor_status: overrides.instructor_status ?? (role === 'instructor' ? 'approved' : 'none'),
      is_active: overrides.is_active ?? true,
      date_joined: nowIso(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const tokens = await app.services.auth.startSession(user);
  return { user, ...tokens, headers: { authorization: `Bearer ${tokens.access}` } };
}

export const createStudent = (app: FastifyInstance) => createUser(app, { role: 'student' });
export const createInstructor = (app: FastifyInstance, status: InstructorStatus = 'approved') =>
  createUser(app, { role: 'instructor', instructor_status: status });
export const createAdmin = (app: FastifyInstance) => createUser(app, { role: 'admin' });
