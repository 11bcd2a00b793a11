/**
 * One factory per table. Each writes its row straight through the data layer (no HTTP, no
 * counters but those the factory names), builds the parents it is not given, and takes
 * overrides for any column a test cares about. Names that insert a row say `insert…Row`
 * where the API would do more (an enrollment through the API also bumps students_count).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { CategoryRow, CourseRow, EnrollmentRow, InstructorStatus, LessonRow, ReviewRow, Role, UserRow } from '../../src/db/types.js';
import { slugify } from '../../src/modules/categories/slug.js';
import { hashPassword } from '../../src/modules/users/passwords.js';
import { nowIso } from '../../src/shared/time.js';
import { caseKey } from '../../src/shared/text-key.js';

export const PASSWORD = 'correct-horse-battery';
let passwordHash: Promise<string> | undefined;

export const unique = (prefix = 'u') => `${prefix}${randomBytes(4).toString('hex')}`;

// ---------------------------------------------------------------------------------- users

export interface TestUser {
  user: UserRow;
  access: string;
  refresh: string;
  /** `{ authorization: 'Bearer …' }` for inject(). */
  headers: { authorization: string };
}

export interface UserOverrides {
  role?: Role;
  instructor_status?: InstructorStatus;
  username?: string;
  email?: string;
  is_active?: boolean;
}

/** A user (no argon2 per user: one hash of PASSWORD is shared) with a session already started. */
export async function createUser(app: FastifyInstance, overrides: UserOverrides = {}): Promise<TestUser> {
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

// ----------------------------------------------------------------------------- categories

export async function createCategory(app: FastifyInstance, overrides: { name?: string; description?: string } = {}): Promise<CategoryRow> {
  const name = overrides.name ?? unique('Category ');
  return app.database.db
    .insertInto('categories')
    .values({ name, name_key: caseKey(name), slug: slugify(name), description: overrides.description ?? '' })
    .returningAll()
    .executeTakeFirstOrThrow();
}

// -------------------------------------------------------------------------------- courses

export interface CourseOverrides {
  /** The owner; a new approved instructor when not given. */
  instructor?: TestUser;
  title?: string;
  description?: string;
  price_cents?: number;
  /** A new category when not given. */
  category_id?: number;
  is_published?: boolean;
  thumbnail?: string | null;
  created_at?: string;
  updated_at?: string;
  students_count?: number;
  reviews_count?: number;
  rating_sum?: number;
  average_rating?: number | null;
}

/**
 * A course, published unless told otherwise (the triggers keep search and category counts).
 * Counters may be set to stand in for enrollments and reviews.
 */
export async function createCourse(app: FastifyInstance, overrides: CourseOverrides = {}): Promise<CourseRow & { owner: TestUser }> {
  const owner = overrides.instructor ?? (await createInstructor(app));
  const now = nowIso();
  const categoryId = overrides.category_id ?? (await createCategory(app)).id;
  const course = await app.database.db
    .insertInto('courses')
    .values({
      title: overrides.title ?? unique('Course '),
      description: overrides.description ?? '',
      price_cents: overrides.price_cents ?? 1000,
      category_id: categoryId,
      instructor_id: owner.user.id,
      thumbnail: overrides.thumbnail ?? null,
      is_published: overrides.is_published ?? true,
      average_rating: overrides.average_rating ?? null,
      students_count: overrides.students_count ?? 0,
      reviews_count: overrides.reviews_count ?? 0,
      rating_sum: overrides.rating_sum ?? 0,
      created_at: overrides.created_at ?? now,
      updated_at: overrides.updated_at ?? overrides.created_at ?? now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  // Written behind the service's back: counts and rankings it may hold are stale.
  app.services.courses.catalogChanged();
  return { ...course, owner };
}

// -------------------------------------------------------------------------------- lessons

/** A lesson appended to the course, with the course's lesson counters and progress kept as the lessons module keeps them. */
export async function createLesson(
  app: FastifyInstance,
  courseId: number,
  overrides: { title?: string; is_preview?: boolean; duration?: number; video?: string | null; attachment?: string | null } = {},
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
        video: overrides.video ?? null,
        attachment: overrides.attachment ?? null,
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

export async function createLessons(app: FastifyInstance, courseId: number, count: number): Promise<LessonRow[]> {
  const lessons: LessonRow[] = [];
  for (let i = 0; i < count; i++) lessons.push(await createLesson(app, courseId));
  return lessons;
}

// ---------------------------------------------------------------------------- enrollments

/**
 * An enrollment row only: students_count and progress stay as they were. For the effects of
 * enrolling, use enrollViaApi (helpers/actions.ts).
 */
export async function insertEnrollmentRow(
  app: FastifyInstance,
  studentId: number,
  courseId: number,
  overrides: { enrolled_on?: string; completed_at?: string | null } = {},
): Promise<EnrollmentRow> {
  return app.database.db
    .insertInto('enrollments')
    .values({
      student_id: studentId,
      course_id: courseId,
      enrolled_on: overrides.enrolled_on ?? nowIso(),
      completed_at: overrides.completed_at ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

// ---------------------------------------------------------------------------- completions

/** A lesson completion row only: the enrollment's progress is not recounted (completeLessonViaApi does that). */
export async function insertCompletionRow(
  app: FastifyInstance,
  enrollmentId: number,
  lessonId: number,
  overrides: { completed_at?: string } = {},
): Promise<{ id: number }> {
  return app.database.db
    .insertInto('lesson_completions')
    .values({ enrollment_id: enrollmentId, lesson_id: lessonId, completed_at: overrides.completed_at ?? nowIso() })
    .returning('id')
    .executeTakeFirstOrThrow();
}

// -------------------------------------------------------------------------------- reviews

/** A review row only: the course's rating counters are not touched (reviewViaApi keeps them). */
export async function insertReviewRow(
  app: FastifyInstance,
  studentId: number,
  courseId: number,
  overrides: { rating?: number; comment?: string; created_at?: string } = {},
): Promise<ReviewRow> {
  const at = overrides.created_at ?? nowIso();
  return app.database.db
    .insertInto('reviews')
    .values({
      course_id: courseId,
      student_id: studentId,
      rating: overrides.rating ?? 5,
      comment: overrides.comment ?? '',
      created_at: at,
      updated_at: at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}
