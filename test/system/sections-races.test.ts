import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { baseOf, send, tally } from '../helpers/burst.js';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createStudent, createCourse, createLessons } from '../helpers/factories.js';
import { enrollViaApi } from '../helpers/actions.js';

/** Reorders, lesson creations and heartbeats over a real listening server, all in flight at once. */
describe(`sections races (${onPostgres ? 'postgres' : 'sqlite'})`, () => {
  let app: TestApp;
  let base: string;
  before(async () => {
    app = await buildTestApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = baseOf(app);
  });
  after(() => app.close());

  const shuffled = <T>(items: T[]): T[] => {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  };

  async function positions(courseId: number) {
    return app.database.db.selectFrom('lessons').select(['id', 'position']).where('course_id', '=', courseId).orderBy('position').execute();
  }

  it('reorders against concurrent lesson creations: never two lessons on one order, each reorder all or nothing', async (t) => {
    const course = await createCourse(app);
    const initial = (await createLessons(app, course.id, 12)).map((l) => l.id);
    const permutations = Array.from({ length: 20 }, () => shuffled(initial));
    const results = await Promise.all([
      ...permutations.map((ids) => send(base, 'POST', `/api/courses/${course.id}/reorder/`, course.owner, { lessons: ids })),
      ...Array.from({ length: 15 }, (_, i) => send(base, 'POST', '/api/lessons/', course.owner, { course: course.id, title: `new ${i}` })),
      // Explicit orders that a reorder may or may not have just taken: 201 or 400, never a 5xx.
      ...Array.from({ length: 5 }, (_, i) =>
        send(base, 'POST', '/api/lessons/', course.owner, { course: course.id, title: `at ${i}`, order: 13 + i }),
      ),
    ]);
    const reorders = results.slice(0, 20);
    const creations = results.slice(20, 35);
    const placed = results.slice(35);
    tally(
      t,
      'reorders',
      reorders.map((r) => r.status),
    );
    tally(
      t,
      'creations',
      creations.map((r) => r.status),
    );
    tally(
      t,
      'explicit orders',
      placed.map((r) => r.status),
    );
    assert.ok(reorders.every((r) => r.status === 200 || r.status === 400));
    assert.ok(creations.every((r) => r.status === 201));
    assert.ok(placed.every((r) => r.status === 201 || r.status === 400));
    for (const r of reorders.filter((r) => r.status === 400)) assert.ok(r.body.lessons);
    // A reorder succeeds only while the course holds exactly the twelve lessons it lists, and numbers them 1..12.
    // Its response is the course as read after the commit, so a lesson created (or another reorder committed) in
    // between may show: the twelve still hold 1..12 in some listed order, and anything newer comes after them.
    const succeeded = reorders.filter((r) => r.status === 200);
    const listed = new Set(permutations.filter((_, i) => reorders[i]?.status === 200).map((ids) => ids.join()));
    for (const r of succeeded) {
      const lessons: { id: number; order: number }[] = r.body.lessons;
      const twelve = lessons.filter((l) => initial.includes(l.id));
      assert.deepEqual(
        twelve.map((l) => l.order),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      assert.ok(listed.has(twelve.map((l) => l.id).join()), 'the twelve stand in the order one successful reorder asked for');
      assert.ok(lessons.filter((l) => !initial.includes(l.id)).every((l) => l.order > 12));
      assert.equal(new Set(lessons.map((l) => l.order)).size, lessons.length);
    }
    const rows = await positions(course.id);
    const created = [...creations, ...placed].filter((r) => r.status === 201).length;
    assert.equal(rows.length, 12 + created);
    assert.equal(new Set(rows.map((r) => r.position)).size, rows.length);
    assert.ok(rows.every((r) => r.position > 0));
    const detail = await send(base, 'GET', `/api/courses/${course.id}/`, course.owner);
    assert.equal(detail.body.lessons_count, rows.length);
  });

  it('concurrent reorders alone: all succeed and the last one wins whole', async (t) => {
    const course = await createCourse(app);
    const initial = (await createLessons(app, course.id, 10)).map((l) => l.id);
    const permutations = Array.from({ length: 20 }, () => shuffled(initial));
    const results = await Promise.all(
      permutations.map((ids) => send(base, 'POST', `/api/courses/${course.id}/reorder/`, course.owner, { lessons: ids })),
    );
    const counts = tally(
      t,
      'reorders',
      results.map((r) => r.status),
    );
    assert.deepEqual(counts, { 200: 20 });
    const final = (await positions(course.id)).map((r) => r.id);
    assert.ok(
      permutations.some((p) => p.join() === final.join()),
      'the final order is one of the requested orders, not a mix',
    );
  });

  it('heartbeats of many students at once (some reaching 90%): every one 200, exact completions and progress', async (t) => {
    const course = await createCourse(app);
    const lessons = await createLessons(app, course.id, 2); // duration 60 each
    const students = await Promise.all(Array.from({ length: 40 }, () => createStudent(app)));
    for (const s of students) assert.equal((await enrollViaApi(app, s, course.id)).status, 201);
    const finishing = new Set(students.slice(0, 15).map((s) => s.user.id));
    const requests = students.flatMap((s) => [
      send(base, 'PUT', `/api/lessons/${lessons[0]!.id}/position/`, s, { position: 10 }),
      send(base, 'PUT', `/api/lessons/${lessons[1]!.id}/position/`, s, { position: 20 }),
      send(base, 'PUT', `/api/lessons/${lessons[0]!.id}/position/`, s, { position: finishing.has(s.user.id) ? 55 : 30 }),
      send(base, 'PUT', `/api/lessons/${lessons[0]!.id}/position/`, s, { position: finishing.has(s.user.id) ? 58 : 31 }),
    ]);
    const results = await Promise.all(requests);
    const counts = tally(
      t,
      'heartbeats',
      results.map((r) => r.status),
    );
    assert.deepEqual(counts, { 200: results.length });
    const rows = await app.database.db
      .selectFrom('lesson_positions')
      .innerJoin('enrollments', 'enrollments.id', 'lesson_positions.enrollment_id')
      .select(['enrollments.student_id', 'lesson_positions.lesson_id'])
      .where('enrollments.course_id', '=', course.id)
      .execute();
    assert.equal(rows.length, students.length * 2, 'one row per student and lesson');
    const completions = await app.database.db
      .selectFrom('lesson_completions')
      .innerJoin('enrollments', 'enrollments.id', 'lesson_completions.enrollment_id')
      .select('enrollments.student_id')
      .where('enrollments.course_id', '=', course.id)
      .execute();
    assert.deepEqual(new Set(completions.map((c) => c.student_id)), finishing);
    assert.equal(completions.length, finishing.size, 'each finishing student completed the lesson once');
    for (const s of students) {
      const p = await send(base, 'GET', `/api/my-progress/${course.id}/`, s);
      assert.equal(p.body.progress, finishing.has(s.user.id) ? 50 : 0);
    }
    const events = await app.database.db
      .selectFrom('events')
      .select('id')
      .where('type', '=', 'lesson.completed')
      .where('course_id', '=', course.id)
      .execute();
    assert.equal(events.length, finishing.size);
  });
});
