import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { DB } from '../src/db/types.js';
import { createTokens } from '../src/modules/auth/tokens.js';
import { BENCH_ADMIN_USERNAME, BENCH_PASSWORD, QUIZ_SHORT_ANSWER } from './generate.js';
import type { LoadRequest } from './load.js';
import { createRandom } from './random.js';
import type { Random } from './random.js';
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
  /** An enrolled student (id and token) and a lesson of that course. */
  completions: { studentId: number; token: string; lessonId: number }[];
  studentUsernames: string[];
  /** An enrolled student's token, a lesson with a quiz of that course, and the quiz's questions. */
  quizTakers: { token: string; lessonId: number; questions: QuizKey[] }[];
  /** Codes of certificates (of completed enrollments). */
  certificateCodes: string[];
  /** The generated admin's token (the webhook scenario registers its endpoint with it); null when the data set has none. */
  adminToken: string | null;
}

/** What a question accepts, so an attempt can answer it right or wrong on purpose. */
export interface QuizKey {
  id: number;
  kind: string;
  correct: number[];
  wrong: number[];
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
  // Lessons with a quiz are completed only by passing it (POST .../complete/ answers 400): the quiz scenario's, not the write mix's.
  const lessons =
    courseIds.length === 0
      ? []
      : await db
          .selectFrom('lessons')
          .select(['id', 'course_id'])
          .where('course_id', 'in', courseIds)
          .where((eb) => eb.not(eb.exists(eb.selectFrom('quizzes').select('quizzes.id').whereRef('quizzes.lesson_id', '=', 'lessons.id'))))
          .execute();
  const takers = await db
    .selectFrom('enrollments as e')
    .innerJoin('lessons as l', 'l.course_id', 'e.course_id')
    .innerJoin('quizzes as q', 'q.lesson_id', 'l.id')
    .innerJoin('courses as c', 'c.id', 'e.course_id')
    .select(['e.student_id', 'l.id as lesson_id', 'q.id as quiz_id'])
    .where('c.is_published', '=', true)
    .orderBy(random)
    .limit(SAMPLE)
    .execute();
  const quizIds = [...new Set(takers.map((t) => t.quiz_id))];
  const questions =
    quizIds.length === 0
      ? []
      : await db
          .selectFrom('quiz_questions')
          .select(['id', 'quiz_id', 'kind'])
          .where('quiz_id', 'in', quizIds)
          .orderBy('quiz_id')
          .orderBy('position')
          .execute();
  const choices =
    questions.length === 0
      ? []
      : await db
          .selectFrom('quiz_choices')
          .select(['id', 'question_id', 'correct'])
          .where(
            'question_id',
            'in',
            questions.map((q) => q.id),
          )
          .orderBy('question_id')
          .orderBy('position')
          .execute();
  const keys = new Map<number, QuizKey[]>();
  for (const q of questions) {
    const own = choices.filter((c) => c.question_id === q.id);
    const key: QuizKey = {
      id: q.id,
      kind: q.kind,
      correct: own.filter((c) => Boolean(c.correct)).map((c) => c.id),
      wrong: own.filter((c) => !c.correct).map((c) => c.id),
    };
    keys.set(q.quiz_id, [...(keys.get(q.quiz_id) ?? []), key]);
  }
  const certificates = await db
    .selectFrom('certificates')
    .select('code')
    .where('revoked_at', 'is', null)
    .orderBy(random)
    .limit(SAMPLE)
    .execute();
  const admin = await db
    .selectFrom('users')
    .select('id')
    .where('username', '=', BENCH_ADMIN_USERNAME)
    .where('role', '=', 'admin')
    .executeTakeFirst();

  const tokens = createTokens(secretKey, { access: BENCH_TOKEN_TTL, refresh: BENCH_TOKEN_TTL });
  const tokenOf = (id: number, role: 'student' | 'admin' = 'student') => tokens.issue({ id, role }, tokens.newId(), tokens.newId()).access;
  const lessonsOf = new Map<number, number[]>();
  for (const lesson of lessons) lessonsOf.set(lesson.course_id, [...(lessonsOf.get(lesson.course_id) ?? []), lesson.id]);

  return {
    publishedCourseIds: published.map((r) => r.id),
    categorySlugs: categories.map((r) => r.slug),
    reviewedCourseIds: reviewed.map((r) => r.id),
    studentTokens: students.map((s) => tokenOf(s.id)),
    completions: learning.flatMap((l) => {
      const token = tokenOf(l.student_id);
      return (lessonsOf.get(l.course_id) ?? []).map((lessonId) => ({ studentId: l.student_id, token, lessonId }));
    }),
    studentUsernames: students.map((s) => s.username),
    quizTakers: takers.map((t) => ({ token: tokenOf(t.student_id), lessonId: t.lesson_id, questions: keys.get(t.quiz_id) ?? [] })),
    certificateCodes: certificates.map((c) => c.code),
    adminToken: admin ? tokenOf(admin.id, 'admin') : null,
  };
}

/** Chance that an attempt answers a question right: about four attempts in five pass (three of four questions at 70 %). */
const RIGHT_ANSWER_CHANCE = 0.8;

/** An attempt's body: every question answered, each right with RIGHT_ANSWER_CHANCE. */
export function quizAnswers(questions: readonly QuizKey[], random: { chance(p: number): boolean }) {
  return {
    answers: questions.map((q) => {
      const right = random.chance(RIGHT_ANSWER_CHANCE);
      if (q.kind === 'short_text') return { question: q.id, text: right ? ` ${QUIZ_SHORT_ANSWER.toUpperCase()} ` : 'javascript' };
      // multiple: wrong by giving one correct choice of several; single and true_false: a wrong choice.
      return { question: q.id, choices: right ? q.correct : q.kind === 'multiple' ? q.correct.slice(0, 1) : q.wrong.slice(0, 1) };
    }),
  };
}

/**
 * One report of the resume heartbeat: below 90% of every generated duration, so no report
 * completes a lesson (the heartbeat's own cost).
 */
function heartbeatRequest(pair: { token: string; lessonId: number }, random: Random): LoadRequest {
  return {
    method: 'PUT',
    path: `/api/lessons/${pair.lessonId}/position/`,
    headers: { authorization: `Bearer ${pair.token}` },
    body: JSON.stringify({ position: random.int(0, 50) }),
  };
}

/** The paced heartbeat of reads+heartbeat: who reports, and the next report. */
export interface HeartbeatStream {
  /** Distinct students and (student, lesson) pairs the stream goes round. */
  students: number;
  pairs: number;
  next: () => LoadRequest;
}

/**
 * The heartbeat as many students send it at once: every (student, lesson) pair of the fixture
 * (up to 1,000 enrollments' lessons) in a shuffled order, taken in turn, so consecutive reports
 * come from different students and none repeats before all have reported.
 */
export function heartbeatStream(fixture: Fixture, seed: number): HeartbeatStream {
  const random = createRandom(seed + 13);
  const pairs = [...nonEmpty('reads+heartbeat', fixture.completions)];
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [pairs[i], pairs[j]] = [pairs[j]!, pairs[i]!];
  }
  let turn = 0;
  return {
    students: new Set(pairs.map((p) => p.studentId)).size,
    pairs: pairs.length,
    next: () => heartbeatRequest(pairs[turn++ % pairs.length]!, random),
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
/**
 * Rendering a certificate is CPU work on the server's one event loop (hundreds of ms each on
 * a loaded machine): with 16 connections the queue alone outlasts a 5-second run.
 */
export const PDF_CONNECTIONS = 4;

export const READ_SCENARIOS = ['catalog', 'search', 'search-mix', 'category', 'detail', 'my-courses', 'reviews'] as const;
/**
 * Not a scenario of its own requests: the write mix run without, then with, a webhook endpoint
 * (a receiver in the bench process) subscribed to every event (bench/webhooks.ts).
 */
export const WEBHOOKS_SCENARIO = 'webhooks';

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
  const quizTakers = () => nonEmpty('quiz-attempt', fixture.quizTakers);
  const certificates = () => nonEmpty('certificate-pdf', fixture.certificateCodes);
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
      // The resume heartbeat: enrolled students report where they are in a lesson.
      name: 'heartbeat',
      kind: 'write',
      connections: WRITE_CONNECTIONS,
      floor: false,
      next: () => heartbeatRequest(random.pick(completions()), random),
    },
    {
      // Enrolled students (up to 1,000 distinct student-and-quiz pairs) submit an attempt at
      // their course's quiz; about four in five pass, and the first pass completes the lesson.
      name: 'quiz-attempt',
      kind: 'write',
      connections: WRITE_CONNECTIONS,
      floor: false,
      next: () => {
        const { token, lessonId, questions } = random.pick(quizTakers());
        return {
          method: 'POST',
          path: `/api/lessons/${lessonId}/quiz/attempts/`,
          headers: bearer(token),
          body: JSON.stringify(quizAnswers(questions, random)),
        };
      },
    },
    {
      // The one-page PDF of a random certificate (of up to 1,000), more than the server's
      // cache of rendered pages holds: most requests render.
      name: 'certificate-pdf',
      kind: 'read',
      connections: PDF_CONNECTIONS,
      floor: false,
      next: () => get(`/api/certificates/${random.pick(certificates())}/pdf/`),
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
