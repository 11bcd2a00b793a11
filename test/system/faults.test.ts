import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { request } from 'node:http';
import type { ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { createDatabase } from '../../src/db/index.js';
import type { Database } from '../../src/db/index.js';
import { FILE_COLUMNS } from '../../src/storage/cleanup.js';
import { caseKey } from '../../src/shared/text-key.js';
import { freshDatabaseUrl, onPostgres } from '../helpers/app.js';
import { multipart } from '../helpers/http.js';
import { keyOf, mediaFiles, png, samples } from '../helpers/media.js';
import { killHard, startServer } from '../helpers/server.js';
import type { RunningServer } from '../helpers/server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'violet-Sunrise-42';
/** Every request of the real server with throttling off, long-lived access tokens and one fixed signing key. */
const quietEnv = {
  SECRET_KEY: 'faults-test-signing-key-0123456789abcdefghij',
  ACCESS_TOKEN_TTL: '3600',
  RATE_LIMIT_LOGIN: 'off',
  RATE_LIMIT_LOGIN_ACCOUNT: 'off',
  RATE_LIMIT_REGISTER: 'off',
  RATE_LIMIT_REFRESH: 'off',
  RATE_LIMIT_ANON: 'off',
  RATE_LIMIT_USER: 'off',
};
/** An outage must be reported within this, not wait for a connection that will not come. */
const FAIL_FAST_MS = 3_000;

interface Options {
  body?: unknown;
  form?: { payload: Buffer; headers: Record<string, string> };
  token?: string;
}

/** fetch against the child server: status, parsed JSON body, text and headers. */
function client(port: number) {
  return async (method: string, url: string, options: Options = {}) => {
    const headers: Record<string, string> = { ...options.form?.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`http://127.0.0.1:${port}${url}`, {
      method,
      headers,
      ...(options.form
        ? { body: new Uint8Array(options.form.payload) }
        : options.body !== undefined
          ? { body: JSON.stringify(options.body) }
          : {}),
    });
    const text = await res.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, body, text, headers: res.headers };
  };
}
type Api = ReturnType<typeof client>;

/** A small seeded generator: the same choices in every run, whatever the timing. */
function random(seed: number) {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

const num = (value: unknown) => Number(value ?? 0);
const dayOf = (value: unknown) => new Date(value as string).toISOString().slice(0, 10);

// ------------------------------------------------------------------------------------------
// What the database says, as facts a client could have been told: "enroll:s:c" → "yes",
// "review:s:c" → rating, "completion:s:l" → "yes", "lesson:id" → "video|attachment",
// "thumbnail:c" → key. An acknowledged write is one fact the snapshot must hold.

type Facts = Map<string, string>;

async function snapshot(db: Database['db'], stable: Set<number>, courseIds: number[]): Promise<Facts> {
  const facts: Facts = new Map();
  for (const e of await db.selectFrom('enrollments').select(['student_id', 'course_id']).execute()) {
    facts.set(`enroll:${e.student_id}:${e.course_id}`, 'yes');
  }
  for (const r of await db.selectFrom('reviews').select(['student_id', 'course_id', 'rating']).execute()) {
    facts.set(`review:${r.student_id}:${r.course_id}`, String(r.rating));
  }
  const completions = await db
    .selectFrom('lesson_completions as lc')
    .innerJoin('enrollments as e', 'e.id', 'lc.enrollment_id')
    .select(['e.student_id', 'lc.lesson_id'])
    .execute();
  for (const c of completions) facts.set(`completion:${c.student_id}:${c.lesson_id}`, 'yes');
  for (const l of await db.selectFrom('lessons').select(['id', 'course_id', 'video', 'attachment']).execute()) {
    if (!stable.has(l.id)) facts.set(`lesson:${l.course_id}:${l.id}`, `${l.video ?? ''}|${l.attachment ?? ''}`);
  }
  for (const c of await db.selectFrom('courses').select(['id', 'thumbnail']).where('id', 'in', courseIds).execute()) {
    facts.set(`thumbnail:${c.id}`, c.thumbnail ?? '');
  }
  return facts;
}

/**
 * Every denormalised counter recomputed from the rows it counts; returns the disagreements.
 * Courses: students, lessons, duration, visible reviews (count, sum, average, histogram);
 * categories: published courses; enrollments: completed lessons, progress, completed_at;
 * per-lesson completion counts; per course and day: enrollments, completed, progress sum.
 */
async function counterMismatches(db: Database['db']): Promise<string[]> {
  const wrong: string[] = [];
  const expect = (what: string, actual: unknown, expected: unknown) => {
    if (actual !== expected) wrong.push(`${what}: ${String(actual)}, rows say ${String(expected)}`);
  };
  const [courses, categories, lessons, enrollments, completions, reviews, lessonCounts, days] = await Promise.all([
    db.selectFrom('courses').selectAll().execute(),
    db.selectFrom('categories').selectAll().execute(),
    db.selectFrom('lessons').select(['id', 'course_id', 'duration']).execute(),
    db.selectFrom('enrollments').selectAll().execute(),
    db.selectFrom('lesson_completions').select(['enrollment_id', 'lesson_id']).execute(),
    db.selectFrom('reviews').select(['course_id', 'rating', 'is_hidden']).execute(),
    db.selectFrom('lesson_completion_counts').selectAll().execute(),
    db.selectFrom('course_enrollment_days').selectAll().execute(),
  ]);
  const lessonCourse = new Map(lessons.map((l) => [l.id, l.course_id]));
  for (const c of courses) {
    const own = lessons.filter((l) => l.course_id === c.id);
    const visible = reviews.filter((r) => r.course_id === c.id && !r.is_hidden);
    const sum = visible.reduce((s, r) => s + num(r.rating), 0);
    expect(`course ${c.id} students_count`, num(c.students_count), enrollments.filter((e) => e.course_id === c.id).length);
    expect(`course ${c.id} lessons_count`, num(c.lessons_count), own.length);
    expect(
      `course ${c.id} total_duration`,
      num(c.total_duration),
      own.reduce((s, l) => s + num(l.duration), 0),
    );
    expect(`course ${c.id} reviews_count`, num(c.reviews_count), visible.length);
    expect(`course ${c.id} rating_sum`, num(c.rating_sum), sum);
    expect(
      `course ${c.id} average_rating`,
      c.average_rating === null ? null : num(c.average_rating),
      visible.length === 0 ? null : Math.round((sum * 100) / visible.length) / 100,
    );
    for (const k of [1, 2, 3, 4, 5] as const) {
      expect(`course ${c.id} ratings_${k}`, num(c[`ratings_${k}`]), visible.filter((r) => num(r.rating) === k).length);
    }
  }
  for (const g of categories) {
    const published = courses.filter((c) => c.category_id === g.id && Boolean(c.is_published)).length;
    expect(`category ${g.id} courses_count`, num(g.courses_count), published);
  }
  for (const e of enrollments) {
    const total = lessons.filter((l) => l.course_id === e.course_id).length;
    const done = completions.filter((c) => c.enrollment_id === e.id && lessonCourse.get(c.lesson_id) === e.course_id).length;
    const progress = total === 0 ? 0 : done >= total ? 100 : Math.round((10000 * done) / total) / 100;
    expect(`enrollment ${e.id} completed_lessons`, num(e.completed_lessons), done);
    // PostgreSQL keeps progress as a 4-byte real: compare in hundredths.
    expect(`enrollment ${e.id} progress (hundredths)`, Math.round(num(e.progress) * 100), Math.round(progress * 100));
    if (total > 0 && done >= total) expect(`enrollment ${e.id} completed_at set`, e.completed_at !== null, true);
  }
  const perLesson = new Map<number, number>();
  for (const c of completions) perLesson.set(c.lesson_id, (perLesson.get(c.lesson_id) ?? 0) + 1);
  const counted = new Map(lessonCounts.map((r) => [r.lesson_id, num(r.completed)]));
  for (const id of new Set([...perLesson.keys(), ...counted.keys()])) {
    expect(`lesson ${id} completions counted`, counted.get(id) ?? 0, perLesson.get(id) ?? 0);
  }
  const perDay = new Map<string, { enrollments: number; completed: number; progress: number }>();
  for (const e of enrollments) {
    const key = `${e.course_id} ${dayOf(e.enrolled_on)}`;
    const d = perDay.get(key) ?? { enrollments: 0, completed: 0, progress: 0 };
    d.enrollments++;
    if (e.completed_at !== null) d.completed++;
    d.progress += Math.round(num(e.progress) * 100);
    perDay.set(key, d);
  }
  const kept = new Map(days.map((d) => [`${d.course_id} ${d.day}`, d]));
  for (const key of new Set([...perDay.keys(), ...kept.keys()])) {
    const rows = perDay.get(key) ?? { enrollments: 0, completed: 0, progress: 0 };
    const row = kept.get(key);
    expect(`day ${key} enrollments`, num(row?.enrollments), rows.enrollments);
    expect(`day ${key} completed`, num(row?.completed), rows.completed);
    expect(`day ${key} progress_sum`, num(row?.progress_sum), rows.progress);
  }
  return wrong;
}

/** Files in the media root that no row names, and names in rows whose file is missing. */
async function fileMismatches(db: Database['db'], mediaRoot: string): Promise<{ stray: string[]; missing: string[] }> {
  const named = new Set<string>();
  for (const { table, column } of FILE_COLUMNS) {
    const rows = await sql<{
      key: string;
    }>`select ${sql.ref(column)} as key from ${sql.table(table)} where ${sql.ref(column)} is not null`.execute(db);
    for (const r of rows.rows) named.add(r.key);
  }
  const stored = new Set(mediaFiles(mediaRoot).map((f) => f.split(path.sep).join('/')));
  return { stray: [...stored].filter((f) => !named.has(f)), missing: [...named].filter((k) => !stored.has(k)) };
}

function sqliteIntegrity(file: string): { integrity: unknown[]; foreignKeys: unknown[] } {
  const raw = new SQLite(file);
  try {
    return { integrity: raw.pragma('integrity_check') as unknown[], foreignKeys: raw.pragma('foreign_key_check') as unknown[] };
  } finally {
    raw.close();
  }
}

// ------------------------------------------------------------------------------------------

/** Kills per database; FAULT_ROUNDS raises it for a longer run (each round restarts the server, ~5 s of CPU). */
const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 4);
const STUDENTS = 12;
/** Acknowledged writes in a round before the kill: enough that every kind of write is in flight. */
const ACKS_BEFORE_KILL = 30;
const LONG_AGO = new Date(Date.now() - 2 * 86_400_000);

describe(`SIGKILL in the middle of write traffic (${onPostgres ? 'postgres' : 'sqlite'})`, () => {
  it(
    `${ROUNDS} kills: consistent database, acknowledged writes kept, counters right, no stray or missing files`,
    { timeout: 240_000 },
    async (t) => {
      const db = await freshDatabaseUrl();
      const dir = mkdtempSync(path.join(tmpdir(), 'lp-faults-'));
      const sqliteFile = path.join(dir, 'db.sqlite3');
      const databaseUrl = onPostgres ? db.url : `sqlite:${sqliteFile}`;
      const mediaRoot = path.join(dir, 'media');
      const env = { ...quietEnv, DATABASE_URL: databaseUrl, MEDIA_ROOT: mediaRoot };
      let server: RunningServer = await startServer(env, dir);
      const inspect = createDatabase(databaseUrl);
      try {
        // Setup through the API, but for what only an admin may do (approve, a category).
        let api = client(server.port);
        const login = async (username: string) =>
          String((await api('POST', '/api/login/', { body: { username, password: PASSWORD } })).body?.access);
        const register = async (username: string, role = 'student') => {
          const res = await api('POST', '/api/register/', {
            body: { username, email: `${username}@example.com`, password: PASSWORD, role },
          });
          assert.equal(res.status, 201, res.text);
          return Number(res.body?.id);
        };
        const teacherId = await register('teacher', 'instructor');
        await inspect.db.updateTable('users').set({ instructor_status: 'approved' }).where('id', '=', teacherId).execute();
        const category = await inspect.db
          .insertInto('categories')
          .values({ name: 'Faults', name_key: caseKey('Faults'), slug: 'faults', description: '' })
          .returning('id')
          .executeTakeFirstOrThrow();
        const teacher = await login('teacher');
        const courseIds: number[] = [];
        const stable = new Set<number>();
        const stableOf = new Map<number, number[]>();
        for (const title of ['Crash course', 'Recovery course']) {
          const res = await api('POST', '/api/courses/', {
            token: teacher,
            body: { title, description: 'd', price: '0', category: category.id, is_published: true },
          });
          assert.equal(res.status, 201, res.text);
          const id = Number(res.body?.id);
          courseIds.push(id);
          stableOf.set(id, []);
          for (let i = 0; i < 4; i++) {
            const lesson = await api('POST', '/api/lessons/', { token: teacher, body: { course: id, title: `Lesson ${i}`, duration: 60 } });
            assert.equal(lesson.status, 201, lesson.text);
            stable.add(Number(lesson.body?.id));
            stableOf.get(id)?.push(Number(lesson.body?.id));
          }
        }
        const students: { id: number; token: string }[] = [];
        for (let i = 0; i < STUDENTS; i++) {
          const id = await register(`student${i}`);
          students.push({ id, token: await login(`student${i}`) });
        }

        const video = Buffer.concat([samples.mp4(), Buffer.alloc(256 * 1024, 7)]);
        const pdf = samples.pdf();
        const image = await png(24, 24);
        let model: Facts = await snapshot(inspect.db, stable, courseIds);
        const reviewIds = new Map<string, number>();
        let totalStrays = 0;

        for (let round = 1; round <= ROUNDS; round++) {
          let killed = false;
          let acks = 0;
          const statuses: Record<number, number> = {};
          /** What an unanswered request would have made true: it may or may not have committed. */
          const pending: { key: string; value: string | undefined }[] = [];
          let pendingCreates = 0;
          const ack = (status: number) => {
            statuses[status] = (statuses[status] ?? 0) + 1;
            if (status < 300) acks++;
          };
          /** One request; false once the server is gone (the request then stays pending). */
          const send = async (
            method: string,
            url: string,
            options: Options,
            effect: { key: string; value: string | undefined } | 'create',
          ): Promise<Awaited<ReturnType<Api>> | null> => {
            try {
              const res = await api(method, url, options);
              ack(res.status);
              return res;
            } catch (error) {
              if (!killed) throw error;
              if (effect === 'create') pendingCreates++;
              else pending.push(effect);
              return null;
            }
          };

          const studentWork = async (s: { id: number; token: string }, seed: number) => {
            const pick = random(seed);
            while (!killed) {
              const course = courseIds[pick(courseIds.length)] ?? 0;
              const enrolled = model.get(`enroll:${s.id}:${course}`) === 'yes';
              const reviewKey = `review:${s.id}:${course}`;
              const review = model.get(reviewKey);
              if (!enrolled) {
                const res = await send(
                  'POST',
                  `/api/enroll/${course}/`,
                  { token: s.token },
                  { key: `enroll:${s.id}:${course}`, value: 'yes' },
                );
                if (!res) return;
                if (res.status === 201) model.set(`enroll:${s.id}:${course}`, 'yes');
                continue;
              }
              const choice = pick(4);
              if (choice <= 1) {
                const lessons = stableOf.get(course) ?? [];
                const lesson = lessons[pick(lessons.length)] ?? 0;
                const key = `completion:${s.id}:${lesson}`;
                const res = await send('POST', `/api/lessons/${lesson}/complete/`, { token: s.token }, { key, value: 'yes' });
                if (!res) return;
                if (res.status === 200) model.set(key, 'yes');
              } else if (review === undefined) {
                const rating = 1 + pick(5);
                const res = await send(
                  'POST',
                  '/api/reviews/',
                  { token: s.token, body: { course, rating, comment: `round ${round}` } },
                  { key: reviewKey, value: String(rating) },
                );
                if (!res) return;
                if (res.status === 201) {
                  model.set(reviewKey, String(rating));
                  reviewIds.set(reviewKey, Number(res.body?.id));
                }
              } else if (choice === 2) {
                const rating = 1 + pick(5);
                const res = await send(
                  'PATCH',
                  `/api/reviews/${reviewIds.get(reviewKey)}/`,
                  { token: s.token, body: { rating } },
                  { key: reviewKey, value: String(rating) },
                );
                if (!res) return;
                if (res.status === 200) model.set(reviewKey, String(rating));
              } else {
                const res = await send(
                  'DELETE',
                  `/api/reviews/${reviewIds.get(reviewKey)}/`,
                  { token: s.token },
                  { key: reviewKey, value: undefined },
                );
                if (!res) return;
                if (res.status === 204) model.delete(reviewKey);
              }
            }
          };

          const liveLessons = (course: number) =>
            [...model.keys()].filter((k) => k.startsWith(`lesson:${course}:`)).map((k) => Number(k.split(':')[2]));
          const lessonWork = async (course: number, seed: number) => {
            const pick = random(seed);
            for (let i = 0; !killed; i++) {
              const live = liveLessons(course);
              const choice = live.length === 0 ? 0 : pick(4);
              if (choice <= 1) {
                const form = multipart(
                  { course, title: `Uploaded ${round}.${i}`, duration: 1 + pick(300) },
                  {
                    video: { filename: 'v.mp4', contentType: 'video/mp4', data: video },
                    attachment: { filename: 'a.pdf', contentType: 'application/pdf', data: pdf },
                  },
                );
                const res = await send('POST', '/api/lessons/', { token: teacher, form }, 'create');
                if (!res) return;
                if (res.status === 201) {
                  const files = `${keyOf(String(res.body?.video))}|${keyOf(String(res.body?.attachment))}`;
                  model.set(`lesson:${course}:${String(res.body?.id)}`, files);
                }
              } else if (choice === 2) {
                const id = live[pick(live.length)] ?? 0;
                const key = `lesson:${course}:${id}`;
                const form = multipart({}, { video: { filename: 'w.mp4', contentType: 'video/mp4', data: video } });
                // The new key is unknown until the answer: if unanswered, any video with the same attachment.
                const res = await send(
                  'PATCH',
                  `/api/lessons/${id}/`,
                  { token: teacher, form },
                  { key, value: `*|${model.get(key)?.split('|')[1]}` },
                );
                if (!res) return;
                if (res.status === 200) model.set(key, `${keyOf(String(res.body?.video))}|${keyOf(String(res.body?.attachment))}`);
              } else {
                const id = live[pick(live.length)] ?? 0;
                const key = `lesson:${course}:${id}`;
                const res = await send('DELETE', `/api/lessons/${id}/`, { token: teacher }, { key, value: undefined });
                if (!res) return;
                if (res.status === 204) model.delete(key);
              }
            }
          };

          const thumbnailWork = async (course: number) => {
            while (!killed) {
              const key = `thumbnail:${course}`;
              const form = multipart({}, { thumbnail: { filename: 't.png', contentType: 'image/png', data: image } });
              const res = await send('PATCH', `/api/courses/${course}/`, { token: teacher, form }, { key, value: '*' });
              if (!res) return;
              if (res.status === 200) model.set(key, keyOf(String(res.body?.thumbnail)));
            }
          };

          // An upload the kill is sure to cut: half its body sent, then it waits.
          const cutUpload = (): ClientRequest => {
            const form = multipart(
              { course: courseIds[0] ?? 0, title: 'Never finished' },
              { video: { filename: 'cut.mp4', contentType: 'video/mp4', data: Buffer.concat([video, Buffer.alloc(4 << 20)]) } },
            );
            const req = request({
              host: '127.0.0.1',
              port: server.port,
              method: 'POST',
              path: '/api/lessons/',
              headers: { ...form.headers, 'content-length': form.payload.length, authorization: `Bearer ${teacher}` },
            });
            req.on('error', () => {});
            req.write(form.payload.subarray(0, form.payload.length / 2));
            return req;
          };

          const work = [
            ...students.map((s, i) => studentWork(s, round * 1000 + i)),
            ...courseIds.map((c, i) => lessonWork(c, round * 1000 + 100 + i)),
            thumbnailWork(courseIds[1] ?? 0),
          ];
          const cut = cutUpload();
          const ready = await waitFor(() => acks >= ACKS_BEFORE_KILL && mediaFiles(mediaRoot).some((f) => f.endsWith('.partial')), {
            timeoutMs: 30_000,
            intervalMs: 5,
          });
          killed = true;
          await killHard(server);
          cut.destroy();
          assert.ok(ready, `round ${round}: traffic and a cut upload were in flight (${acks} acknowledged)`);
          await Promise.all(work);
          assert.ok(
            Object.keys(statuses).every((s) => Number(s) < 500),
            `round ${round}: no 5xx: ${JSON.stringify(statuses)}`,
          );

          if (!onPostgres) {
            const { integrity, foreignKeys } = sqliteIntegrity(sqliteFile);
            assert.deepEqual(integrity, [{ integrity_check: 'ok' }], `round ${round}: integrity_check`);
            assert.deepEqual(foreignKeys, [], `round ${round}: foreign_key_check`);
          }

          // What the crash left, before the restart; then as if it happened long ago (the sweep
          // spares files younger than a day: they may belong to an upload still in flight).
          const left = await fileMismatches(inspect.db, mediaRoot);
          totalStrays += left.stray.length;
          for (const f of mediaFiles(mediaRoot)) utimesSync(path.join(mediaRoot, f), LONG_AGO, LONG_AGO);

          server = await startServer(env, dir);
          api = client(server.port);
          let files = left;
          const swept = await waitFor(
            async () => {
              files = await fileMismatches(inspect.db, mediaRoot);
              const recorded = await inspect.db.selectFrom('file_deletions').select('id').execute();
              return files.stray.length === 0 && recorded.length === 0;
            },
            { timeoutMs: 15_000, intervalMs: 50 },
          );
          assert.ok(swept, `round ${round}: the startup sweep leaves no file without its row: ${files.stray.join(', ')}`);
          assert.deepEqual(files.missing, [], `round ${round}: no row without its file`);

          // Every acknowledged write is there; an unanswered one may or may not be.
          const actual = await snapshot(inspect.db, stable, courseIds);
          const unsure = new Map(pending.map((p) => [p.key, p.value]));
          const problems: string[] = [];
          let unknownLessons = 0;
          for (const key of new Set([...model.keys(), ...actual.keys()])) {
            const expected = model.get(key);
            const found = actual.get(key);
            if (found === expected) continue;
            if (key.startsWith('thumbnail:') && unsure.get(key) === '*') continue;
            if (unsure.has(key)) {
              const maybe = unsure.get(key);
              if (maybe === found) continue;
              if (maybe?.startsWith('*|') && found?.endsWith(maybe.slice(1)) && !found.startsWith('|')) continue;
            }
            if (expected === undefined && key.startsWith('lesson:') && ++unknownLessons <= pendingCreates) continue;
            problems.push(`${key}: ${String(found)}, acknowledged ${String(expected)}`);
          }
          assert.deepEqual(problems, [], `round ${round}: acknowledged writes`);
          for (const r of await inspect.db.selectFrom('reviews').select(['id', 'student_id', 'course_id']).execute()) {
            reviewIds.set(`review:${r.student_id}:${r.course_id}`, r.id);
          }
          model = actual;

          assert.deepEqual(await counterMismatches(inspect.db), [], `round ${round}: counters agree with the rows`);
          t.diagnostic(
            `round ${round}: ${acks} acknowledged, ${pending.length + pendingCreates} unanswered, ` +
              `${left.stray.length} stray files after the kill (${left.stray.filter((f) => f.endsWith('.partial')).length} partial), ` +
              `statuses ${JSON.stringify(statuses)}`,
          );
        }
        t.diagnostic(`${ROUNDS} kills, ${totalStrays} stray files left by them, all swept at restart`);
        assert.ok(totalStrays >= ROUNDS, 'every kill cut at least one upload (the sweep had work)');
        assert.ok(existsSync(mediaRoot));
      } finally {
        await killHard(server);
        await inspect.close();
        rmSync(dir, { recursive: true, force: true });
        await db.drop();
      }
    },
  );
});

describe(
  'PostgreSQL goes away, then comes back',
  { skip: !onPostgres && 'PostgreSQL only: an embedded SQLite file cannot become unreachable' },
  () => {
    it(
      'requests fail fast with 503, /ready says so, /health stays up, and the service recovers by itself',
      { timeout: 90_000 },
      async (t) => {
        const db = await freshDatabaseUrl();
        const upstream = new URL(db.url);
        // The machine's PostgreSQL is shared with other tests: the outage is a proxy cut, not a stop.
        const proxy = await startTcpProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) });
        const viaProxy = new URL(db.url);
        viaProxy.host = `127.0.0.1:${proxy.port}`;
        const dir = mkdtempSync(path.join(tmpdir(), 'lp-outage-'));
        const server = await startServer({ ...quietEnv, DATABASE_URL: viaProxy.toString(), MEDIA_ROOT: path.join(dir, 'media') }, dir);
        try {
          const api = client(server.port);
          assert.equal(
            (await api('POST', '/api/register/', { body: { username: 'before', email: 'before@example.com', password: PASSWORD } })).status,
            201,
          );
          const login = await api('POST', '/api/login/', { body: { username: 'before', password: PASSWORD } });
          const token = String(login.body?.access);

          await proxy.stop();
          const attempts: [string, string, Parameters<typeof api>[2]][] = [
            ['GET', '/api/courses/?search=uncached', {}],
            ['GET', '/api/categories/', {}],
            ['GET', '/api/profile/', { token }],
            ['POST', '/api/register/', { body: { username: 'during', email: 'during@example.com', password: PASSWORD } }],
            ['POST', '/api/login/', { body: { username: 'before', password: PASSWORD } }],
            ['POST', '/api/enroll/1/', { token }],
          ];
          for (const [method, url, options] of attempts) {
            const started = Date.now();
            const res = await api(method, url, options);
            const took = Date.now() - started;
            t.diagnostic(`${method} ${url} during the outage: ${res.status} in ${took} ms`);
            assert.equal(res.status, 503, `${method} ${url}: ${res.text}`);
            assert.ok(took < FAIL_FAST_MS, `${method} ${url} answered in ${took} ms`);
            assert.deepEqual(Object.keys(res.body as object), ['detail']);
            assert.equal(res.headers.get('x-error-code'), 'database_unavailable');
            assert.ok(res.headers.get('x-request-id'));
            assert.ok(res.headers.get('retry-after'));
          }
          const started = Date.now();
          const ready = await api('GET', '/ready');
          assert.equal(ready.status, 503);
          assert.ok(Date.now() - started < FAIL_FAST_MS);
          assert.equal((await api('GET', '/health')).status, 200);

          await proxy.start();
          assert.ok(
            await waitFor(async () => (await api('GET', '/ready')).status === 200, { timeoutMs: 15_000, intervalMs: 100 }),
            '/ready recovers',
          );
          const after = await api('POST', '/api/register/', {
            body: { username: 'after', email: 'after@example.com', password: PASSWORD },
          });
          assert.equal(after.status, 201, after.text);
          assert.equal((await api('GET', '/api/profile/', { token })).status, 200);
          assert.equal(server.child.exitCode, null, 'the same process throughout');
        } finally {
          await killHard(server);
          await proxy.close();
          rmSync(dir, { recursive: true, force: true });
          await db.drop();
        }
      },
    );
  },
);
