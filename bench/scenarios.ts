import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { DB } from '../src/db/types.js';
import { createTokens } from '../src/modules/auth/tokens.js';
import { BENCH_PASSWORD } from './generate.js';
import type { LoadRequest } from './load.js';
import { createRandom } from './random.js';
import { BENCH_TOKEN_TTL } from './servers.js';
import { searchQueries } from './words.js';

/** Ids drawn from the data set once, so every request can pick one at random. */
export interface Fixture {
  publishedCourseIds: number[];
  /** Slugs of categories with at least three pages of published courses. */
  categorySlugs: string[];
  reviewedCourseIds: number[];
  /** Access tokens of students with at least one enrollment. */
  studentTokens: string[];
  /** An enrolled student's token and a lesson of that course. */
  completions: { token: string; lessonId: number }[];
  studentUsernames: string[];
}

const SAMPLE = 1_000;
const PAGE_SIZE = 10;

/**
 * Samples the data set through Kysely. Tokens are signed with the app's own token code and
 * the server's secret, exactly as login would issue them: login itself is slow on purpose
 * (the password hash) and has a scenario of its own.
 */
export async function loadFixture(db: Kysely<DB>, secretKey: string): Promise<Fixture> {
  const random = sql`random()`;
  const published = await db.selectFrom('courses').select('id').where('is_published', '=', true).orderBy(random).limit(SAMPLE).execute();
  const categories = await db
    .selectFrom('categories')
    .select('slug')
    .where('courses_count', '>', 2 * PAGE_SIZE)
    .execute();
  const reviewed = await db
    .selectFrom('courses')
    .select('id')
    .where('is_published', '=', true)
    .where('reviews_count', '>', 0)
    .orderBy(random)
    .limit(SAMPLE)
    .execute();
  const students = await db
    .selectFrom('users')
    .select(['id', 'username'])
    .where('role', '=', 'student')
    .where((eb) => eb.exists(eb.selectFrom('enrollments').select('enrollments.id').whereRef('enrollments.student_id', '=', 'users.id')))
    .orderBy(random)
    .limit(SAMPLE)
    .execute();
  const learning = await db
    .selectFrom('enrollments as e')
    .innerJoin('courses as c', 'c.id', 'e.course_id')
    .select(['e.student_id', 'e.course_id'])
    .where('c.lessons_count', '>', 0)
    .where('c.is_published', '=', true)
    .orderBy(random)
    .limit(SAMPLE)
    .execute();
  const courseIds = [...new Set(learning.map((l) => l.course_id))];
  const lessons =
    courseIds.length === 0 ? [] : await db.selectFrom('lessons').select(['id', 'course_id']).where('course_id', 'in', courseIds).execute();

  const tokens = createTokens(secretKey, { access: BENCH_TOKEN_TTL, refresh: BENCH_TOKEN_TTL });
  const tokenOf = (id: number) => tokens.issue({ id, role: 'student' }, tokens.newId(), tokens.newId()).access;
  const lessonsOf = new Map<number, number[]>();
  for (const lesson of lessons) lessonsOf.set(lesson.course_id, [...(lessonsOf.get(lesson.course_id) ?? []), lesson.id]);

  return {
    publishedCourseIds: published.map((r) => r.id),
    categorySlugs: categories.map((r) => r.slug),
    reviewedCourseIds: reviewed.map((r) => r.id),
    studentTokens: students.map((s) => tokenOf(s.id)),
    completions: learning.flatMap((l) => {
      const token = tokenOf(l.student_id);
      return (lessonsOf.get(l.course_id) ?? []).map((lessonId) => ({ token, lessonId }));
    }),
    studentUsernames: students.map((s) => s.username),
  };
}

export type ScenarioKind = 'read' | 'write' | 'login';

export interface Scenario {
  name: string;
  kind: ScenarioKind;
  /** Connections held open by the load generator; null: the run's default for reads. */
  connections: number | null;
  /** Requests the floor also answers (reads only). */
  floor: boolean;
  next: () => LoadRequest;
}

export const WRITE_CONNECTIONS = 32;
export const LOGIN_CONNECTIONS = 8;

export const READ_SCENARIOS = ['catalog', 'search', 'search-mix', 'category', 'detail', 'my-courses', 'reviews'] as const;

/** Distinct queries of the search-mix scenario: too many for the 10-second catalog cache to hold them all warm at low rates. */
export const SEARCH_MIX_QUERIES = 1_000;
export const searchMix = (seed: number) => searchQueries(createRandom(seed + 11), SEARCH_MIX_QUERIES);
export const SCALE_SCENARIOS = ['catalog', 'search', 'search-mix', 'detail'] as const;

function nonEmpty<T>(name: string, items: T[]): T[] {
  if (items.length === 0) throw new Error(`the data set has nothing for the ${name} scenario; generate a larger one`);
  return items;
}

/** Every scenario of the benchmark, in the order they run. Reads first, then writes, then login. */
export function scenarios(fixture: Fixture, seed: number): Scenario[] {
  const random = createRandom(seed);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const get = (path: string, headers?: Record<string, string>): LoadRequest =>
    headers ? { method: 'GET', path, headers } : { method: 'GET', path };
  const published = () => nonEmpty('detail', fixture.publishedCourseIds);
  const slugs = () => nonEmpty('category', fixture.categorySlugs);
  const reviewed = () => nonEmpty('reviews', fixture.reviewedCourseIds);
  const students = () => nonEmpty('my-courses', fixture.studentTokens);
  const completions = () => nonEmpty('write-mix', fixture.completions);
  const usernames = () => nonEmpty('login', fixture.studentUsernames);
  const queries = searchMix(seed);

  return [
    { name: 'catalog', kind: 'read', connections: null, floor: true, next: () => get('/api/courses/') },
    { name: 'search', kind: 'read', connections: null, floor: true, next: () => get('/api/courses/?search=python') },
    {
      // A search chosen at random from 1,000 distinct ones (words, prefixes, pairs).
      name: 'search-mix',
      kind: 'read',
      connections: null,
      floor: true,
      next: () => get(`/api/courses/?search=${encodeURIComponent(random.pick(queries))}`),
    },
    {
      name: 'category',
      kind: 'read',
      connections: null,
      floor: true,
      next: () => get(`/api/courses/?category=${encodeURIComponent(random.pick(slugs()))}&ordering=price&page=3`),
    },
    { name: 'detail', kind: 'read', connections: null, floor: true, next: () => get(`/api/courses/${random.pick(published())}/`) },
    {
      name: 'my-courses',
      kind: 'read',
      connections: null,
      floor: true,
      next: () => get('/api/my-courses/', bearer(random.pick(students()))),
    },
    { name: 'reviews', kind: 'read', connections: null, floor: true, next: () => get(`/api/reviews/?course=${random.pick(reviewed())}`) },
    {
      // Mark and unmark lessons done, half and half, as enrolled students.
      name: 'write-mix',
      kind: 'write',
      connections: WRITE_CONNECTIONS,
      floor: false,
      next: () => {
        const { token, lessonId } = random.pick(completions());
        return { method: random.chance(0.5) ? 'POST' : 'DELETE', path: `/api/lessons/${lessonId}/complete/`, headers: bearer(token) };
      },
    },
    {
      // The resume heartbeat: enrolled students report where they are in a lesson (below 90% of
      // every generated duration, so no report completes a lesson: the heartbeat's own cost).
      name: 'heartbeat',
      kind: 'write',
      connections: WRITE_CONNECTIONS,
      floor: false,
      next: () => {
        const { token, lessonId } = random.pick(completions());
        return {
          method: 'PUT',
          path: `/api/lessons/${lessonId}/position/`,
          headers: bearer(token),
          body: JSON.stringify({ position: random.int(0, 50) }),
        };
      },
    },
    {
      name: 'login',
      kind: 'login',
      connections: LOGIN_CONNECTIONS,
      floor: false,
      next: () => ({
        method: 'POST',
        path: '/api/login/',
        body: JSON.stringify({ username: random.pick(usernames()), password: BENCH_PASSWORD }),
      }),
    },
  ];
}
