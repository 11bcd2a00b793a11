/**
 * Instructor insight at scale: one course with 100,000 enrollments (and lesson completions,
 * reviews), written directly in batches into a fresh SQLite file and a fresh PostgreSQL
 * database, then GET /api/courses/{id}/analytics/ and GET /api/instructor/summary/ timed
 * through app.inject (the whole request: auth, the queries, serialization).
 *
 *   node --import tsx bench/analytics.ts [--enrollments 100000] [--runs 200] [--pg postgres://postgres@127.0.0.1:5432/postgres]
 *
 * Enrollments fall on the last 25 days, so the default 30-day chart covers every one of
 * them (the worst case for a by-day count). Without --pg (or TEST_DATABASE_URL) only SQLite
 * is measured. PostgreSQL gets VACUUM ANALYZE after the load, as autovacuum would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/index.js';
import { migrateToLatest } from '../src/db/migrator.js';
import type { CourseAnalytics } from '../src/modules/analytics/schemas.js';
import { refreshCourseRating } from '../src/modules/reviews/repository.js';
import { caseKey } from '../src/shared/text-key.js';

const { values: args } = parseArgs({
  options: {
    enrollments: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '200' },
    pg: { type: 'string', default: process.env.TEST_DATABASE_URL },
  },
});
const N = Number(args.enrollments);
const RUNS = Number(args.runs);
const LESSONS = 10;
const BATCH = 1000;
const DAY_MS = 86_400_000;

async function measure(label: string, databaseUrl: string, mediaRoot: string): Promise<void> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    MEDIA_ROOT: mediaRoot,
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_REGISTER: 'off',
    RATE_LIMIT_REFRESH: 'off',
    RATE_LIMIT_ANON: 'off',
    RATE_LIMIT_USER: 'off',
  });
  const database = createDatabase(config.databaseUrl, { poolSize: 4 });
  await migrateToLatest(database.db);
  const { db } = database;
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const user = (username: string, role: 'student' | 'instructor' | 'admin') => ({
    username,
    username_key: caseKey(username),
    email: `${username}@example.com`,
    email_key: caseKey(`${username}@example.com`),
    password_hash: 'x',
    first_name: '',
    last_name: '',
    bio: '',
    profile_image: null,
    role,
    instructor_status: role === 'instructor' ? ('approved' as const) : ('none' as const),
    is_active: true,
    date_joined: iso(now),
  });
  const started = Date.now();
  const instructor = await db.insertInto('users').values(user('bench_instructor', 'instructor')).returningAll().executeTakeFirstOrThrow();
  const admin = await db.insertInto('users').values(user('bench_admin', 'admin')).returningAll().executeTakeFirstOrThrow();
  const category = await db
    .insertInto('categories')
    .values({ name: 'Bench', name_key: caseKey('Bench'), slug: 'bench', description: '' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const course = await db
    .insertInto('courses')
    .values({
      title: 'Big course',
      description: '',
      price_cents: 0,
      category_id: category.id,
      instructor_id: instructor.id,
      thumbnail: null,
      is_published: true,
      average_rating: null,
      created_at: iso(now),
      updated_at: iso(now),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const lessons = await db
    .insertInto('lessons')
    .values(
      Array.from({ length: LESSONS }, (_, i) => ({
        course_id: course.id,
        title: `Lesson ${i + 1}`,
        content: '',
        position: i + 1,
        duration: 60,
        is_preview: false,
        video: null,
        attachment: null,
        created_at: iso(now),
        updated_at: iso(now),
      })),
    )
    .returning('id')
    .execute();

  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  for (let offset = 0; offset < N; offset += BATCH) {
    const size = Math.min(BATCH, N - offset);
    const students = await db
      .insertInto('users')
      .values(Array.from({ length: size }, (_, i) => user(`bench_student_${offset + i}`, 'student')))
      .returning('id')
      .execute();
    // Students stop somewhere: done = 0 … LESSONS lessons, in order.
    const done = students.map(() => Math.floor(random() * (LESSONS + 1)));
    const enrollments = await db
      .insertInto('enrollments')
      .values(
        students.map((s, i) => {
          const enrolled = now - Math.floor(random() * 25 * DAY_MS);
          return {
            student_id: s.id,
            course_id: course.id,
            enrolled_on: iso(enrolled),
            completed_lessons: done[i]!,
            progress: Math.round((10_000 * done[i]!) / LESSONS) / 100,
            completed_at: done[i] === LESSONS ? iso(enrolled + DAY_MS / 2) : null,
          };
        }),
      )
      .returning('id')
      .execute();
    const completions = enrollments.flatMap((e, i) =>
      lessons.slice(0, done[i]).map((l) => ({ enrollment_id: e.id, lesson_id: l.id, completed_at: iso(now) })),
    );
    for (let c = 0; c < completions.length; c += BATCH)
      await db
        .insertInto('lesson_completions')
        .values(completions.slice(c, c + BATCH))
        .execute();
    if (offset < 2000) {
      await db
        .insertInto('reviews')
        .values(
          students.slice(0, 200).map((s, i) => ({
            course_id: course.id,
            student_id: s.id,
            rating: 1 + (i % 5),
            comment: '',
            created_at: iso(now),
            updated_at: iso(now),
          })),
        )
        .execute();
    }
  }
  await db.updateTable('courses').set({ students_count: N }).where('id', '=', course.id).execute();
  await refreshCourseRating(db, course.id);
  if (database.dialect === 'postgres') await sql`vacuum analyze`.execute(db);
  else await sql`analyze`.execute(db);
  const loadSeconds = ((Date.now() - started) / 1000).toFixed(1);

  const app = await buildApp(config, { database, logger: false });
  await app.ready();
  const tokens = {
    instructor: (await app.services.auth.startSession(instructor)).access,
    admin: (await app.services.auth.startSession(admin)).access,
  };
  const time = async (url: string, token: string) => {
    const samples: number[] = [];
    for (let i = 0; i < RUNS + 20; i++) {
      const t = process.hrtime.bigint();
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      if (i >= 20) samples.push(ms);
    }
    samples.sort((a, b) => a - b);
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(2);
    return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms`;
  };
  const body = (
    await app.inject({
      method: 'GET',
      url: `/api/courses/${course.id}/analytics/`,
      headers: { authorization: `Bearer ${tokens.instructor}` },
    })
  ).json<CourseAnalytics>();
  console.log(`\n## ${label}: ${N} enrollments, ${LESSONS} lessons (loaded in ${loadSeconds} s)`);
  console.log(
    `figures: students ${body.students_count}, completed ${body.completed_count}, average_progress ${body.average_progress}, days ${body.enrollments_by_day.length}, histogram ${JSON.stringify(body.rating_histogram)}`,
  );
  console.log(`floor: GET /api/profile/ (one row by id)          ${await time('/api/profile/', tokens.instructor)}`);
  console.log(
    `GET /api/courses/{id}/analytics/ (owner)           ${await time(`/api/courses/${course.id}/analytics/`, tokens.instructor)}`,
  );
  console.log(
    `GET /api/courses/{id}/analytics/?from&to 366 days  ${await time(`/api/courses/${course.id}/analytics/?from=${iso(now - 365 * DAY_MS).slice(0, 10)}&to=${iso(now).slice(0, 10)}`, tokens.instructor)}`,
  );
  console.log(`GET /api/instructor/summary/ (instructor)          ${await time('/api/instructor/summary/', tokens.instructor)}`);
  console.log(`GET /api/instructor/summary/ (admin)               ${await time('/api/instructor/summary/', tokens.admin)}`);
  await app.close();
}

const dir = mkdtempSync(path.join(tmpdir(), 'lp-bench-analytics-'));
try {
  await measure('SQLite', `sqlite:${path.join(dir, 'analytics.sqlite3')}`, dir);
  if (args.pg) {
    const name = `lp_bench_analytics_${process.pid}`;
    const admin = new pg.Client({ connectionString: args.pg });
    await admin.connect();
    await admin.query(`create database ${name}`);
    try {
      const url = new URL(args.pg);
      url.pathname = `/${name}`;
      await measure('PostgreSQL', url.toString(), dir);
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
