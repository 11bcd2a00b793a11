import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/index.js';
import type { Database } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { captureSql } from '../../bench/capture.js';
import type { SqlCapture } from '../../bench/capture.js';
import { createFloor } from '../../bench/floor.js';
import { QUIZ_EVERY, generateDataset } from '../../bench/generate.js';
import type { DatasetSize } from '../../bench/generate.js';
import { measure } from '../../bench/load.js';
import { createProgress } from '../../bench/progress.js';
import { heartbeatStream, loadFixture, scenarios } from '../../bench/scenarios.js';
import type { Fixture, Scenario } from '../../bench/scenarios.js';
import { BENCH_TOKEN_TTL } from '../../bench/servers.js';
import { runWebhooks, webhookClean } from '../../bench/webhooks.js';
import { readsHeartbeatClean, runReadsWithHeartbeat } from '../../bench/reads-heartbeat.js';
import { measureAnalytics } from '../../bench/analytics.js';
import { freshDatabaseUrl, onPostgres } from '../helpers/app.js';

/**
 * The benchmark harness on a tiny data set: the generator keeps every aggregate and the search
 * index right, the floor runs exactly the statements the project runs and answers the same
 * bodies, and the load driver completes a short run without a single failure.
 */
const TINY: DatasetSize = {
  courses: 300,
  categories: 5,
  instructors: 10,
  students: 60,
  enrollments: 400,
  reviews: 150,
  lessonCourses: 40,
  lessonsPerCourse: 3,
};
const SECRET = randomBytes(32).toString('hex');

let url: string;
let dropDatabase: () => Promise<void>;
let tempDir: string | undefined;
let database: Database;
let capture: SqlCapture;
let app: FastifyInstance;
let fixture: Fixture;
let floor: ReturnType<typeof createFloor>;
let floorOrigin: string;
let projectOrigin: string;
const floorStatements: string[] = [];

before(async () => {
  if (onPostgres) {
    ({ url, drop: dropDatabase } = await freshDatabaseUrl());
  } else {
    tempDir = mkdtempSync(path.join(tmpdir(), 'lp-bench-'));
    url = `sqlite:${path.join(tempDir, 'bench.sqlite3')}`;
    dropDatabase = async () => {};
  }
  database = createDatabase(url);
  await migrateToLatest(database.db);
  await generateDataset(database.db, TINY, { seed: 7, progress: createProgress(process.stderr, true) });
  fixture = await loadFixture(database.db, SECRET);
  capture = captureSql(url);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url,
    SECRET_KEY: SECRET,
    ACCESS_TOKEN_TTL: String(BENCH_TOKEN_TTL),
    MEDIA_ROOT: path.join(tmpdir(), 'lp-bench-media'),
    RATE_LIMIT_ANON: 'off',
    RATE_LIMIT_USER: 'off',
    RATE_LIMIT_LOGIN: 'off',
    WEBHOOK_ALLOW_PRIVATE: 'true',
  });
  // The webhook worker's background passes would land among the captured statements: the webhook test starts it.
  app = await buildApp(config, { database: capture.database, logger: false, webhooks: { autoStart: false } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  projectOrigin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  floor = createFloor({ databaseUrl: url, secretKey: SECRET, trace: (text) => floorStatements.push(text) });
  await new Promise<void>((resolve) => floor.server.listen(0, '127.0.0.1', resolve));
  floorOrigin = `http://127.0.0.1:${(floor.server.address() as AddressInfo).port}`;
});

after(async () => {
  await floor?.close();
  await app?.close();
  await database?.close();
  await dropDatabase?.();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

describe('data generator', () => {
  it('writes the requested sizes with the aggregates of courses and enrollments matching their rows', async () => {
    const { db } = database;
    const count = async (table: 'courses' | 'users' | 'enrollments' | 'reviews' | 'lessons') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    assert.equal(await count('courses'), TINY.courses);
    // The students, the instructors and one admin (the webhook scenario's).
    assert.equal(await count('users'), TINY.instructors + TINY.students + 1);
    assert.equal(await count('enrollments'), TINY.enrollments);
    assert.equal(await count('reviews'), TINY.reviews);
    assert.equal(await count('lessons'), TINY.lessonCourses * TINY.lessonsPerCourse);

    const drift = await sql<{ n: number }>`
      select count(*) as n from courses c where
        students_count <> (select count(*) from enrollments e where e.course_id = c.id)
        or reviews_count <> (select count(*) from reviews r where r.course_id = c.id)
        or rating_sum <> (select coalesce(sum(rating), 0) from reviews r where r.course_id = c.id)
        or lessons_count <> (select count(*) from lessons l where l.course_id = c.id)
        or total_duration <> (select coalesce(sum(duration), 0) from lessons l where l.course_id = c.id)
        or (reviews_count > 0 and abs(average_rating - 1.0 * rating_sum / reviews_count) > 1e-9)`.execute(db);
    assert.equal(Number(drift.rows[0]?.n), 0);
    const progress = await sql<{ n: number }>`
      select count(*) as n from enrollments e where
        completed_lessons <> (select count(*) from lesson_completions lc where lc.enrollment_id = e.id)
        or abs(progress - case when (select count(*) from lessons l where l.course_id = e.course_id) = 0 then 0
          else round(100.0 * completed_lessons / (select count(*) from lessons l where l.course_id = e.course_id), 2) end) > 1e-9`.execute(
      db,
    );
    assert.equal(Number(progress.rows[0]?.n), 0);
    const categories = await sql<{ n: number }>`
      select count(*) as n from categories cat
      where courses_count <> (select count(*) from courses c where c.category_id = cat.id and c.is_published = ${true})`.execute(db);
    assert.equal(Number(categories.rows[0]?.n), 0);
  });

  it('puts a quiz on the last lesson of every fourth course with lessons, completed by nobody, and a certificate on every completed enrollment', async () => {
    const { db } = database;
    const quizzes = await sql<{ n: number }>`select count(*) as n from quizzes`.execute(db);
    assert.equal(Number(quizzes.rows[0]?.n), Math.ceil(TINY.lessonCourses / QUIZ_EVERY));
    const notLast = await sql<{ n: number }>`
      select count(*) as n from quizzes q join lessons l on l.id = q.lesson_id
      where l.position <> (select max(position) from lessons o where o.course_id = l.course_id)`.execute(db);
    assert.equal(Number(notLast.rows[0]?.n), 0);
    const shape = await sql<{ n: number }>`select count(*) as n from quiz_questions`.execute(db);
    assert.equal(Number(shape.rows[0]?.n), 4 * Number(quizzes.rows[0]?.n));
    const passedWithoutAttempt = await sql<{ n: number }>`
      select count(*) as n from lesson_completions lc join quizzes q on q.lesson_id = lc.lesson_id`.execute(db);
    assert.equal(Number(passedWithoutAttempt.rows[0]?.n), 0);
    const completed = await sql<{ n: number }>`select count(*) as n from enrollments where completed_at is not null`.execute(db);
    assert.ok(Number(completed.rows[0]?.n) > 0, 'the tiny data set should have completed enrollments');
    const missing = await sql<{ n: number }>`
      select count(*) as n from enrollments e where e.completed_at is not null and not exists
        (select 1 from certificates c where c.course_id = e.course_id and c.student_id = e.student_id)`.execute(db);
    assert.equal(Number(missing.rows[0]?.n), 0);
    const certificates = await sql<{ n: number }>`select count(*) as n from certificates`.execute(db);
    assert.equal(Number(certificates.rows[0]?.n), Number(completed.rows[0]?.n));
  });

  it("fills the search index (through the catalog migration's triggers) with text that search finds", async () => {
    // Not python: the floor test below must find the project's cache for that search empty.
    const response = await app.inject({ method: 'GET', url: '/api/courses/?search=kotlin' });
    assert.equal(response.statusCode, 200);
    const count = response.json<{ count: number }>().count;
    assert.ok(count > 0 && count < TINY.courses / 5, `one technology should name a few percent of courses, got ${count}`);
  });
});

describe('the floor', () => {
  const reads = () => scenarios(fixture, 11).filter((s) => s.floor);

  async function both(scenario: Scenario) {
    const request = scenario.next();
    capture.take();
    const project = await app.inject({ method: 'GET', url: request.path, ...(request.headers ? { headers: request.headers } : {}) });
    const projectSql = capture.take();
    floorStatements.length = 0;
    const response = await fetch(`${floorOrigin}${request.path}`, request.headers ? { headers: request.headers } : {});
    const floorText = await response.text();
    return { request, project, projectSql, floorStatus: response.status, floorText, floorSql: [...floorStatements] };
  }

  it('answers every read scenario with the body and the statements of the project, cold and warm', async () => {
    // Three rounds: the first finds the catalog caches of both servers empty, the later ones full.
    for (const scenario of reads()) {
      for (let round = 1; round <= 3; round++) {
        const { request, project, projectSql, floorStatus, floorText, floorSql } = await both(scenario);
        const what = `${scenario.name} round ${round} ${request.path}`;
        assert.equal(project.statusCode, 200, `${what}: ${project.body}`);
        assert.equal(floorStatus, 200, `${what} (floor): ${floorText}`);
        // Links are absolute: the two servers are reached under different hosts.
        const normalise = (text: string, origin: string) => JSON.parse(text.replaceAll(origin, 'http://server')) as unknown;
        assert.deepEqual(normalise(floorText, floorOrigin), normalise(project.body, 'http://localhost'), what);
        // The same statements; on PostgreSQL the project sends a detail's independent reads on
        // several pooled connections at once, so they are compared without their order.
        assert.deepEqual([...floorSql].sort(), [...projectSql].sort(), what);
      }
    }
  });

  it('refuses my-courses without a valid token, as the project does', async () => {
    const response = await fetch(`${floorOrigin}/api/my-courses/`, { headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(response.status, 401);
  });
});

describe('database layer, as the benchmark found it must be', () => {
  it(
    "SQLite: keeps planner statistics, so a student's enrollments are counted from the student's index",
    { skip: onPostgres },
    async () => {
      // A second connection opens the generated file as the server would at start.
      const reopened = createDatabase(url);
      try {
        const stats = await sql<{ n: number }>`select count(*) as n from sqlite_stat1 where tbl = 'enrollments'`.execute(reopened.db);
        assert.ok(Number(stats.rows[0]?.n) > 0, 'no statistics for enrollments');
        const plan = await sql<{ detail: string }>`explain query plan
        select count(*) from enrollments inner join courses on courses.id = enrollments.course_id
        where enrollments.student_id = ${1} and courses.is_published = ${true}`.execute(reopened.db);
        assert.match(plan.rows[0]?.detail ?? '', /^SEARCH enrollments/, JSON.stringify(plan.rows));
      } finally {
        await reopened.close();
      }
    },
  );

  it('PostgreSQL: runs the same query text as one named statement per connection', { skip: !onPostgres }, async () => {
    const query = (db: typeof database.db) => db.selectFrom('courses').select('id').where('id', '=', 1).execute();
    const prepared = await database.db.connection().execute(async (connection) => {
      await query(connection);
      await query(connection);
      return sql<{ n: number }>`select count(*) as n from pg_prepared_statements
        where statement = 'select "id" from "courses" where "id" = $1'`.execute(connection);
    });
    assert.equal(Number(prepared.rows[0]?.n), 1);
  });
});

describe('load driver', () => {
  it('drives a scenario for a second and counts every response as a success', async () => {
    const catalog = scenarios(fixture, 3).find((s) => s.name === 'catalog')!;
    const result = await measure({ origin: floorOrigin, connections: 4, seconds: 1, warmupSeconds: 0, next: catalog.next });
    assert.equal(result.flagged, false, result.firstFailure);
    assert.ok(result.requests > 0);
    assert.ok(result.p50 > 0 && result.p99 >= result.p50);
  });

  it('submits quiz attempts as enrolled students without a failure, and passing ones complete the quiz lesson', async () => {
    const quiz = scenarios(fixture, 5).find((s) => s.name === 'quiz-attempt')!;
    const result = await measure({ origin: projectOrigin, connections: 4, seconds: 1, warmupSeconds: 0, next: quiz.next });
    assert.equal(result.flagged, false, result.firstFailure);
    const { db } = database;
    const attempts = await sql<{ n: number; passed: number }>`
      select count(*) as n, sum(case when passed then 1 else 0 end) as passed from quiz_attempts`.execute(db);
    // Every answered request stored one attempt; requests still in flight when the run stopped may have stored theirs too.
    const stored = Number(attempts.rows[0]?.n);
    assert.ok(stored >= result.requests && stored <= result.requests + 4, `${stored} attempts for ${result.requests} answers`);
    assert.ok(Number(attempts.rows[0]?.passed) > 0 && Number(attempts.rows[0]?.passed) < result.requests, 'some attempts pass, some fail');
    const completedQuizLessons = await sql<{ n: number }>`
      select count(*) as n from lesson_completions lc join quizzes q on q.lesson_id = lc.lesson_id`.execute(db);
    assert.ok(Number(completedQuizLessons.rows[0]?.n) > 0);
  });

  it('fetches certificate PDFs without a failure', async () => {
    const pdf = scenarios(fixture, 5).find((s) => s.name === 'certificate-pdf')!;
    const one = await fetch(`${projectOrigin}${pdf.next().path}`);
    assert.equal(one.status, 200);
    assert.equal(one.headers.get('content-type'), 'application/pdf');
    assert.equal(
      Buffer.from(await one.arrayBuffer())
        .subarray(0, 5)
        .toString('latin1'),
      '%PDF-',
    );
    const result = await measure({ origin: projectOrigin, connections: 2, seconds: 1, warmupSeconds: 0, next: pdf.next });
    assert.equal(result.flagged, false, result.firstFailure);
  });

  it('webhooks: delivers the events of the write mix to the receiver with valid signatures, then removes its endpoint', async () => {
    assert.ok(fixture.adminToken);
    app.services.webhookWorker.start();
    const writeMix = scenarios(fixture, 9).find((s) => s.name === 'write-mix')!;
    const result = await runWebhooks({
      origin: projectOrigin,
      databaseUrl: url,
      adminToken: fixture.adminToken,
      rounds: 1,
      connections: 4,
      drive: () => measure({ origin: projectOrigin, connections: 4, seconds: 1, warmupSeconds: 0, next: writeMix.next }),
      status: () => {},
    });
    assert.ok(webhookClean(result), JSON.stringify(result.delivery));
    assert.ok(result.delivery.eventsProduced > 0);
    assert.equal(result.delivery.verified, result.delivery.sampled);
    assert.ok(result.delivery.lagP50 !== null && result.delivery.lagP50 >= 0);
    const endpoints = await sql<{ n: number }>`select count(*) as n from webhook_endpoints`.execute(database.db);
    assert.equal(Number(endpoints.rows[0]?.n), 0);
  });

  it('reads+heartbeat: measures a read alone and beside the paced heartbeat, which stores positions for many students', async () => {
    const count = async () =>
      Number(
        (
          await sql<{ n: number }>`
            select count(*) as n from lesson_positions`.execute(database.db)
        ).rows[0]?.n,
      );
    const before = await count();
    const catalog = scenarios(fixture, 13).find((s) => s.name === 'catalog')!;
    const stream = heartbeatStream(fixture, 13);
    assert.ok(stream.students > 1 && stream.pairs >= stream.students, JSON.stringify(stream));
    const result = await runReadsWithHeartbeat({
      origin: projectOrigin,
      reads: [catalog],
      stream,
      rate: 40,
      readConnections: 2,
      rounds: 1,
      seconds: 1,
      warmupSeconds: 0,
      status: () => {},
    });
    assert.ok(readsHeartbeatClean(result), JSON.stringify(result.results));
    const [only] = result.results;
    assert.equal(only?.scenario, 'catalog');
    assert.ok(only.alone.requests > 0 && only.with.requests > 0);
    assert.ok(only.ratio !== null && only.ratio > 0);
    // Paced: about the rate asked for (autocannon sends each second's share when the second begins), never far above it.
    assert.ok(only.heartbeat.requests > 0 && only.heartbeat.requestsPerSecond <= 2 * 40, JSON.stringify(only.heartbeat));
    // The stream takes the pairs in turn: every answered report until it wraps is a new (enrollment, lesson) row.
    const stored = (await count()) - before;
    assert.ok(stored >= Math.min(only.heartbeat.requests, stream.pairs), `${stored} new positions for ${only.heartbeat.requests} reports`);
    const students = await sql<{ n: number }>`
      select count(distinct e.student_id) as n from lesson_positions p join enrollments e on e.id = p.enrollment_id`.execute(database.db);
    assert.ok(Number(students.rows[0]?.n) > 1);
  });

  it('flags a run in which any response is not a 2xx', async () => {
    const result = await measure({
      origin: floorOrigin,
      connections: 2,
      seconds: 1,
      warmupSeconds: 0,
      next: () => ({ method: 'GET', path: '/api/no-such-endpoint/' }),
    });
    assert.equal(result.flagged, true);
    assert.ok(result.non2xx > 0);
    assert.match(result.firstFailure ?? '', /^404/);
  });
});

describe('analytics scenario', () => {
  it('loads one course with the requested enrollments into an empty database and times its endpoints', async () => {
    const fresh = onPostgres
      ? await freshDatabaseUrl()
      : { url: `sqlite:${path.join(tempDir!, 'analytics.sqlite3')}`, drop: async () => {} };
    try {
      const result = await measureAnalytics(fresh.url, { enrollments: 300, runs: 5 });
      assert.equal(result.figures.students_count, 300);
      assert.equal(result.enrollments, 300);
      assert.ok(result.figures.completed_count > 0 && result.figures.completed_count < 300);
      assert.equal(result.figures.days, 30);
      assert.deepEqual(
        result.timings.map((t) => t.judged),
        [false, true, true, true, true],
      );
      for (const t of result.timings) assert.ok(t.p50 > 0 && t.p50 <= t.p95 && t.p95 <= t.p99 && t.p99 <= t.max, JSON.stringify(t));
    } finally {
      await fresh.drop();
    }
  });
});
