import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { baseOf, send, tally } from '../helpers/burst.js';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createStudent, createCourse, createLessons } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { enrollViaApi, courseCounters } from '../helpers/actions.js';

/**
 * Concurrency over a real listening server: every request of a burst is in flight at once,
 * so on PostgreSQL they run on separate pooled connections and race in the database.
 */
describe(`races (${onPostgres ? 'postgres' : 'sqlite'})`, () => {
  const N = 50;
  let app: TestApp;
  let base: string;
  before(async () => {
    app = await buildTestApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = baseOf(app);
  });
  after(() => app.close());

  const students = (n: number) => Promise.all(Array.from({ length: n }, () => createStudent(app)));

  it(`${N} identical enroll requests at once: one 201, the rest 409, counted once`, async (t) => {
    const course = await createCourse(app);
    const student = await createStudent(app);
    const results = await Promise.all(Array.from({ length: N }, () => send(base, 'POST', `/api/enroll/${course.id}/`, student)));
    const counts = tally(
      t,
      'identical enrollments',
      results.map((r) => r.status),
    );
    assert.deepEqual(counts, { 201: 1, 409: N - 1 });
    const rows = await app.database.db.selectFrom('enrollments').select('id').where('course_id', '=', course.id).execute();
    assert.equal(rows.length, 1);
    assert.equal((await courseCounters(app, course.id)).students_count, 1);
  });

  it(`${N} students enrolling and some unenrolling at once: students_count equals the rows`, async (t) => {
    const course = await createCourse(app);
    const leaving = await students(20);
    for (const s of leaving) assert.equal((await enrollViaApi(app, s, course.id)).status, 201);
    const joining = await students(N);
    const results = await Promise.all([
      ...joining.map((s) => send(base, 'POST', `/api/enroll/${course.id}/`, s)),
      ...leaving.map((s) => send(base, 'DELETE', `/api/enroll/${course.id}/`, s)),
      // A second unenroll of the same students: exactly one of each pair removes the row.
      ...leaving.map((s) => send(base, 'DELETE', `/api/enroll/${course.id}/`, s)),
    ]);
    const counts = tally(
      t,
      'enroll/unenroll mix',
      results.map((r) => r.status),
    );
    assert.deepEqual(counts, { 201: N, 204: 20, 404: 20 });
    const rows = await app.database.db.selectFrom('enrollments').select('id').where('course_id', '=', course.id).execute();
    assert.equal(rows.length, N);
    assert.equal((await courseCounters(app, course.id)).students_count, N);
  });

  it(`${N} completions of different lessons at once: exact progress, each answer one step further`, async (t) => {
    const course = await createCourse(app);
    const lessons = await createLessons(app, course.id, N + 10);
    const student = await createStudent(app);
    assert.equal((await enrollViaApi(app, student, course.id)).status, 201);
    const results = await Promise.all(lessons.slice(0, N).map((l) => send(base, 'POST', `/api/lessons/${l.id}/complete/`, student)));
    tally(
      t,
      'completions',
      results.map((r) => r.status),
    );
    assert.ok(results.every((r) => r.status === 200));
    // Completions of one student are serialised: the answers count 1, 2, …, N.
    assert.deepEqual(
      results.map((r) => r.body.completed_lessons as number).sort((a, b) => a - b),
      Array.from({ length: N }, (_, i) => i + 1),
    );
    const final = await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: student });
    assert.equal(final.body.completed_lessons, N);
    assert.equal(final.body.total_lessons, N + 10);
    assert.equal(final.body.progress, Math.round((10000 * N) / (N + 10)) / 100);

    // The same again, marking the last ten and unmarking ten at once, with repeats: idempotent and exact.
    const again = await Promise.all([
      ...lessons
        .slice(N)
        .flatMap((l) => [
          send(base, 'POST', `/api/lessons/${l.id}/complete/`, student),
          send(base, 'POST', `/api/lessons/${l.id}/complete/`, student),
        ]),
      ...lessons
        .slice(0, 10)
        .flatMap((l) => [
          send(base, 'DELETE', `/api/lessons/${l.id}/complete/`, student),
          send(base, 'DELETE', `/api/lessons/${l.id}/complete/`, student),
        ]),
    ]);
    tally(
      t,
      'mark/unmark mix',
      again.map((r) => r.status),
    );
    const after = await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: student });
    assert.equal(after.body.completed_lessons, N);
    assert.equal(after.body.progress, final.body.progress);
  });

  it('completions racing lessons added and removed: progress matches the rows in the end', async (t) => {
    const course = await createCourse(app);
    const lessons = await createLessons(app, course.id, 30);
    const group = await students(5);
    for (const s of group) assert.equal((await enrollViaApi(app, s, course.id)).status, 201);
    const results = await Promise.all([
      ...group.flatMap((s) => lessons.slice(0, 20).map((l) => send(base, 'POST', `/api/lessons/${l.id}/complete/`, s))),
      ...Array.from({ length: 10 }, (_, i) =>
        send(base, 'POST', '/api/lessons/', course.owner, { course: course.id, title: `Added ${i}` }),
      ),
      ...lessons.slice(20).map((l) => send(base, 'DELETE', `/api/lessons/${l.id}/`, course.owner)),
    ]);
    tally(
      t,
      'completions with lesson changes',
      results.map((r) => r.status),
    );
    const total = lessons.length + 10 - 10;
    for (const s of group) {
      const res = await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: s });
      assert.equal(res.body.total_lessons, total);
      assert.equal(res.body.completed_lessons, 20);
      assert.equal(res.body.progress, Math.round((10000 * 20) / total) / 100);
    }
  });

  it('reviews posted, edited and deleted at once: exact count, sum and average', async (t) => {
    const course = await createCourse(app);
    const existing = await students(25);
    const newcomers = await students(N);
    for (const s of [...existing, ...newcomers]) assert.equal((await enrollViaApi(app, s, course.id)).status, 201);
    const ids: number[] = [];
    for (const s of existing)
      ids.push((await call(app, 'POST', '/api/reviews/', { as: s, body: { course: course.id, rating: 5 } })).body.id);

    const results = await Promise.all([
      // Newcomers post ratings 1..5; each also posts twice more at once (409s).
      ...newcomers.flatMap((s, i) =>
        [0, 1, 2].map(() => send(base, 'POST', '/api/reviews/', s, { course: course.id, rating: (i % 5) + 1 })),
      ),
      // Fifteen of the existing reviews are deleted (by their authors, and again by an admin-free repeat), ten are re-rated.
      ...existing
        .slice(0, 15)
        .flatMap((s, i) => [send(base, 'DELETE', `/api/reviews/${ids[i]}/`, s), send(base, 'DELETE', `/api/reviews/${ids[i]}/`, s)]),
      ...existing.slice(15).map((s, i) => send(base, 'PATCH', `/api/reviews/${ids[15 + i]}/`, s, { rating: 1 })),
    ]);
    const counts = tally(
      t,
      'reviews mix',
      results.map((r) => r.status),
    );
    assert.equal(counts[201], N);
    assert.equal(counts[409], 2 * N);
    assert.equal(counts[204], 15);
    assert.equal(counts[404], 15);
    assert.equal(counts[200], 10);

    const expectedSum = newcomers.reduce((sum, _, i) => sum + (i % 5) + 1, 0) + 10 * 1;
    const expectedCount = N + 10;
    const counters = await courseCounters(app, course.id);
    assert.equal(counters.reviews_count, expectedCount);
    assert.equal(counters.rating_sum, expectedSum);
    assert.equal(counters.average_rating, Math.round((100 * expectedSum) / expectedCount) / 100);
    const { count, sum } = await app.database.db
      .selectFrom('reviews')
      .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.sum<number>('rating').as('sum')])
      .where('course_id', '=', course.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual([Number(count), Number(sum)], [expectedCount, expectedSum]);
  });
});
