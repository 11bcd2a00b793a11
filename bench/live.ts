import { spawn } from 'node:child_process';
import path from 'node:path';
import { createTokens } from '../src/modules/auth/tokens.js';
import type { Fixture } from './scenarios.js';
import type { Random } from './random.js';
import { createRandom } from './random.js';
import { BENCH_TOKEN_TTL } from './servers.js';
import { FIRST_NAMES, LAST_NAMES, categoryNames, courseDescription, courseTitle, lessonTitle, reviewComment } from './words.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** What the live-growth mode creates through the running server's HTTP API. */
export interface LiveSize {
  categories: number;
  instructors: number;
  students: number;
  courses: number;
  /** Published courses that get lessons (the completions need some). */
  lessonCourses: number;
  lessonsPerCourse: number;
  enrollments: number;
  reviews: number;
  completions: number;
}

export const LIVE_SIZE: Readonly<LiveSize> = {
  categories: 20,
  instructors: 50,
  students: 300,
  courses: 2_000,
  lessonCourses: 200,
  lessonsPerCourse: 5,
  enrollments: 3_000,
  reviews: 1_500,
  completions: 3_000,
};

export const LIVE_QUICK_SIZE: Readonly<LiveSize> = {
  categories: 10,
  instructors: 10,
  students: 60,
  courses: 300,
  lessonCourses: 30,
  lessonsPerCourse: 4,
  enrollments: 400,
  reviews: 200,
  completions: 400,
};

/** Requests in flight while the data grows: a few clients at once, as on a young platform. */
const GROWTH_CONCURRENCY = 8;
const PASSWORD = 'live-bench-Pa55word!';

export interface GrowthPhase {
  phase: string;
  requests: number;
  seconds: number;
}

export interface Grown {
  fixture: Fixture;
  phases: GrowthPhase[];
}

/**
 * The first admin comes from the command line, as the contract says, before the server
 * starts (the CLI migrates the empty database and opens it as the server does).
 */
export async function createAdminByCli(databaseUrl: string, secretKey: string): Promise<number> {
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'create-admin',
        '--username',
        'liveadmin',
        '--email',
        'liveadmin@example.com',
        '--password',
        PASSWORD,
      ],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          DATABASE_URL: databaseUrl,
          SECRET_KEY: secretKey,
          NODE_ENV: 'production',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`create-admin exited with ${code}:\n${text}`))));
  });
  const id = /\(id (\d+)\)/.exec(output)?.[1];
  if (!id) throw new Error(`create-admin said: ${output}`);
  return Number(id);
}

/** Runs `work` for every item, `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function sample<T>(random: Random, items: readonly T[], count: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, count);
}

/**
 * Grows an empty platform through the running server's API: categories (admin),
 * instructors (registered, approved by the admin), students, published courses and a few
 * drafts, lessons, enrollments, reviews and lesson completions. Every non-2xx answer stops
 * the run. Registrations go through the real password hashing; the later requests carry
 * access tokens signed by the app's own token code (what login would hand out), so the
 * growth is not dominated by the deliberately slow login.
 */
export async function growThroughApi(
  origin: string,
  secretKey: string,
  adminId: number,
  size: LiveSize,
  seed: number,
  status: (text: string) => void,
): Promise<Grown> {
  const random = createRandom(seed + 7);
  const tokens = createTokens(secretKey, { access: BENCH_TOKEN_TTL, refresh: BENCH_TOKEN_TTL });
  const tokenOf = (id: number, role: 'student' | 'instructor' | 'admin') =>
    tokens.issue({ id, role }, tokens.newId(), tokens.newId()).access;
  const adminToken = tokenOf(adminId, 'admin');
  const phases: GrowthPhase[] = [];

  const call = async <T>(method: string, url: string, token: string | null, body?: unknown): Promise<T> => {
    const response = await fetch(`${origin}${url}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status < 200 || response.status > 299)
      throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : null) as T;
  };
  const phase = async <T>(name: string, items: readonly T[], work: (item: T, index: number) => Promise<void>) => {
    const started = performance.now();
    let done = 0;
    await eachLimited(items, GROWTH_CONCURRENCY, async (item, index) => {
      await work(item, index);
      if (++done % 100 === 0) status(`live growth: ${name} ${done}/${items.length}`);
    });
    phases.push({ phase: name, requests: items.length, seconds: Math.round((performance.now() - started) / 10) / 100 });
  };

  const categories: { id: number; slug: string }[] = [];
  await phase('categories', categoryNames(size.categories), async (name) => {
    categories.push(
      await call<{ id: number; slug: string }>('POST', '/api/categories/', adminToken, { name, description: `All about ${name}.` }),
    );
  });

  const person = (i: number) => ({ first_name: FIRST_NAMES[i % FIRST_NAMES.length]!, last_name: LAST_NAMES[(i * 7) % LAST_NAMES.length]! });
  const instructors: { id: number; token: string }[] = [];
  await phase(
    'instructor registrations',
    Array.from({ length: size.instructors }, (_, i) => i),
    async (i) => {
      const user = await call<{ id: number }>('POST', '/api/register/', null, {
        username: `teacher${i}`,
        email: `teacher${i}@example.com`,
        password: PASSWORD,
        role: 'instructor',
        ...person(i),
      });
      instructors.push({ id: user.id, token: tokenOf(user.id, 'instructor') });
    },
  );
  await phase('instructor approvals', instructors, async (instructor) => {
    await call('POST', `/api/admin/users/${instructor.id}/approve/`, adminToken);
  });

  const students: { id: number; token: string; username: string }[] = [];
  await phase(
    'student registrations',
    Array.from({ length: size.students }, (_, i) => i),
    async (i) => {
      const username = `learner${i}`;
      const user = await call<{ id: number }>('POST', '/api/register/', null, {
        username,
        email: `${username}@example.com`,
        password: PASSWORD,
        ...person(i + 3),
      });
      students.push({ id: user.id, token: tokenOf(user.id, 'student'), username });
    },
  );

  const published: number[] = [];
  const ownerOf = new Map<number, string>();
  await phase(
    'courses',
    Array.from({ length: size.courses }, (_, i) => i),
    async () => {
      const instructor = random.pick(instructors);
      const isPublished = random.chance(0.95);
      const course = await call<{ id: number }>('POST', '/api/courses/', instructor.token, {
        title: courseTitle(random),
        description: courseDescription(random),
        price: random.chance(0.1) ? '0.00' : `${random.int(5, 199)}.99`,
        category: random.pick(categories).id,
        is_published: isPublished,
      });
      if (isPublished) published.push(course.id);
      ownerOf.set(course.id, instructor.token);
    },
  );

  const lessonCourses = sample(random, published, size.lessonCourses);
  const lessonsOf = new Map<number, number[]>();
  const lessonJobs = lessonCourses.flatMap((courseId) =>
    Array.from({ length: size.lessonsPerCourse }, (_, i) => ({ courseId, order: i + 1 })),
  );
  await phase('lessons', lessonJobs, async ({ courseId, order }) => {
    const lesson = await call<{ id: number }>('POST', '/api/lessons/', ownerOf.get(courseId)!, {
      course: courseId,
      title: lessonTitle(random, order),
      content: 'Read, then try it yourself.',
      order,
      duration: random.int(120, 1800),
      is_preview: order === 1,
    });
    lessonsOf.set(courseId, [...(lessonsOf.get(courseId) ?? []), lesson.id]);
  });

  // A third of the enrollments in courses with lessons, so there is something to complete.
  const pairs = new Set<string>();
  const enrollments: { student: (typeof students)[number]; courseId: number }[] = [];
  while (enrollments.length < size.enrollments) {
    const student = random.pick(students);
    const courseId = random.chance(1 / 3) ? random.pick(lessonCourses) : random.pick(published);
    const key = `${student.id} ${courseId}`;
    if (pairs.has(key)) continue;
    pairs.add(key);
    enrollments.push({ student, courseId });
  }
  await phase('enrollments', enrollments, async ({ student, courseId }) => {
    await call('POST', `/api/enroll/${courseId}/`, student.token);
  });

  const reviewed = new Set<number>();
  await phase('reviews', sample(random, enrollments, size.reviews), async ({ student, courseId }) => {
    await call('POST', '/api/reviews/', student.token, { course: courseId, rating: random.int(1, 5), comment: reviewComment(random) });
    reviewed.add(courseId);
  });

  const learning = enrollments.filter((e) => lessonsOf.has(e.courseId));
  const completions = learning.flatMap(({ student, courseId }) =>
    lessonsOf.get(courseId)!.map((lessonId) => ({ studentId: student.id, token: student.token, lessonId })),
  );
  await phase('completions', sample(random, completions, size.completions), async ({ token, lessonId }) => {
    await call('POST', `/api/lessons/${lessonId}/complete/`, token);
  });

  const perCategory = new Map<number, number>();
  const categoryOfCourse = await categoryCounts(origin, categories);
  for (const [id, count] of categoryOfCourse) perCategory.set(id, count);
  const enrolledStudents = new Set(enrollments.map((e) => e.student));
  return {
    phases,
    fixture: {
      publishedCourseIds: published,
      categorySlugs: categories.filter((c) => (perCategory.get(c.id) ?? 0) > 20).map((c) => c.slug),
      reviewedCourseIds: [...reviewed],
      studentTokens: [...enrolledStudents].map((s) => s.token),
      completions,
      studentUsernames: students.map((s) => s.username),
      // Live growth measures the read scenarios only.
      quizTakers: [],
      certificateCodes: [],
      adminToken: null,
    },
  };
}

/** Published courses per category, as the API reports them. */
async function categoryCounts(origin: string, categories: { id: number }[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const category of categories) {
    const response = await fetch(`${origin}/api/categories/${category.id}/`);
    const body = (await response.json()) as { courses_count: number };
    counts.set(category.id, body.courses_count);
  }
  return counts;
}

/** The server's resident set size in KiB, read from /proc (Linux); null elsewhere. */
export async function rssKiB(pid: number): Promise<{ rss: number; peak: number } | null> {
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    const peak = /VmHWM:\s+(\d+)/.exec(status)?.[1];
    return rss && peak ? { rss: Number(rss), peak: Number(peak) } : null;
  } catch {
    return null;
  }
}
