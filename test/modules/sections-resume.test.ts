import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createAdmin, createStudent, createCourse, createLesson } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { completeLessonViaApi, enrollViaApi } from '../helpers/actions.js';

describe(`resume where you left off (${onPostgres ? 'postgres' : 'sqlite'})`, () => {
  let app: TestApp;
  let admin: TestUser;
  before(async () => {
    app = await buildTestApp();
    admin = await createAdmin(app);
  });
  after(() => app.close());

  async function setup(durations = [100, 200, 0]) {
    const course = await createCourse(app);
    const lessons = [];
    for (const duration of durations) lessons.push(await createLesson(app, course.id, { duration }));
    const student = await createStudent(app);
    assert.equal((await enrollViaApi(app, student, course.id)).status, 201);
    return { course, lessons, student };
  }
  const report = (as: TestUser | undefined, lessonId: number, position: unknown) =>
    call(app, 'PUT', `/api/lessons/${lessonId}/position/`, { as, body: { position } });
  const progress = async (as: TestUser, courseId: number) => (await call(app, 'GET', `/api/my-progress/${courseId}/`, { as })).body;

  it('a report answers {lesson, position, completed} and my-progress shows position, resume and next_lesson', async () => {
    const { course, lessons, student } = await setup();
    const before = await progress(student, course.id);
    assert.equal(before.resume, null);
    assert.equal(before.next_lesson, lessons[0]!.id);
    assert.deepEqual(
      before.lessons.map((l: { position: number | null }) => l.position),
      [null, null, null],
    );

    const res = await report(student, lessons[1]!.id, 12.5);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { lesson: lessons[1]!.id, position: 12.5, completed: false });
    const moved = await report(student, lessons[1]!.id, 30);
    assert.equal(moved.body.position, 30);
    const after = await progress(student, course.id);
    assert.deepEqual(
      after.lessons.map((l: { position: number | null }) => l.position),
      [null, 30, null],
    );
    assert.deepEqual(after.resume, { lesson: lessons[1]!.id, position: 30 });
    assert.equal(after.next_lesson, lessons[0]!.id);
    assert.equal(after.progress, 0);
    const rows = await app.database.db.selectFrom('lesson_positions').select('id').where('lesson_id', '=', lessons[1]!.id).execute();
    assert.equal(rows.length, 1);
  });

  it('resume is the lesson touched last, by position report or completion; next_lesson the first not completed', async () => {
    const { course, lessons, student } = await setup();
    await report(student, lessons[2]!.id, 5);
    await sleep(15);
    assert.equal((await completeLessonViaApi(app, student, lessons[0]!.id)).status, 200);
    let p = await progress(student, course.id);
    assert.deepEqual(p.resume, { lesson: lessons[0]!.id, position: 0 });
    assert.equal(p.next_lesson, lessons[1]!.id);
    await sleep(15);
    await report(student, lessons[2]!.id, 7);
    p = await progress(student, course.id);
    assert.deepEqual(p.resume, { lesson: lessons[2]!.id, position: 7 });
    await completeLessonViaApi(app, student, lessons[1]!.id);
    await completeLessonViaApi(app, student, lessons[2]!.id);
    p = await progress(student, course.id);
    assert.equal(p.next_lesson, null);
    assert.equal(p.progress, 100);
  });

  it('90% of a known duration completes the lesson exactly as POST complete does, once', async () => {
    const { course, lessons, student } = await setup();
    const below = await report(student, lessons[0]!.id, 89.9);
    assert.equal(below.body.completed, false);
    const at = await report(student, lessons[0]!.id, 90);
    assert.deepEqual(at.body, { lesson: lessons[0]!.id, position: 90, completed: true });
    const again = await report(student, lessons[0]!.id, 95);
    assert.equal(again.body.completed, true);
    const p = await progress(student, course.id);
    assert.equal(p.completed_lessons, 1);
    assert.equal(p.progress, 33.33);
    assert.equal(p.lessons[0].completed, true);
    const events = await app.database.db
      .selectFrom('events')
      .select('data')
      .where('type', '=', 'lesson.completed')
      .where('course_id', '=', course.id)
      .execute();
    assert.equal(events.length, 1);
    // Going back below 90% does not uncomplete it.
    assert.equal((await report(student, lessons[0]!.id, 3)).body.completed, true);
    // Without a known duration, no position completes the lesson.
    const unknown = await report(student, lessons[2]!.id, 1_000_000);
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.completed, false);
  });

  it('bad positions are a 400 on position and nothing is written', async () => {
    const { lessons, student } = await setup();
    for (const position of [-1, 100.5, 101, 'abc', [1, 2], 2_147_483_648]) {
      const res = await report(student, lessons[0]!.id, position);
      assert.equal(res.status, 400, JSON.stringify(position));
      assert.ok(res.body.position, JSON.stringify(res.body));
    }
    assert.equal((await call(app, 'PUT', `/api/lessons/${lessons[0]!.id}/position/`, { as: student, body: {} })).status, 400);
    const rows = await app.database.db.selectFrom('lesson_positions').select('id').where('lesson_id', '=', lessons[0]!.id).execute();
    assert.equal(rows.length, 0);
    assert.equal((await report(student, lessons[0]!.id, 100)).status, 200);
    assert.equal((await report(student, lessons[0]!.id, 0)).status, 200);
  });

  it('who may report: enrolled students only (others 403 not_enrolled, anonymous 401, a draft 404, unknown 404)', async () => {
    const { course, lessons } = await setup();
    const outsider = await report(await createStudent(app), lessons[0]!.id, 1);
    assert.equal(outsider.status, 403);
    assert.equal(outsider.headers['x-error-code'], 'not_enrolled');
    assert.equal((await report(course.owner, lessons[0]!.id, 1)).status, 403);
    assert.equal((await report(admin, lessons[0]!.id, 1)).status, 403);
    assert.equal((await report(undefined, lessons[0]!.id, 1)).status, 401);
    assert.equal((await report(admin, 999_999, 1)).status, 404);
    assert.equal((await report(admin, 99_999_999_999, 1)).status, 404);
    const preview = await createLesson(app, course.id, { is_preview: true });
    assert.equal((await report(await createStudent(app), preview.id, 1)).headers['x-error-code'], 'not_enrolled');
    const draft = await createCourse(app, { is_published: false });
    const draftLesson = await createLesson(app, draft.id);
    assert.equal((await report(await createStudent(app), draftLesson.id, 1)).status, 404);
  });

  it('unenrolling takes the positions with the enrollment', async () => {
    const { course, lessons, student } = await setup();
    await report(student, lessons[0]!.id, 10);
    assert.equal((await call(app, 'DELETE', `/api/enroll/${course.id}/`, { as: student })).status, 204);
    assert.equal((await report(student, lessons[0]!.id, 10)).status, 403);
    assert.equal((await enrollViaApi(app, student, course.id)).status, 201);
    const p = await progress(student, course.id);
    assert.equal(p.resume, null);
    assert.equal(p.lessons[0].position, null);
  });

  it('a deleted lesson takes its positions; resume never points at a lesson that is gone', async () => {
    const { course, lessons, student } = await setup();
    await report(student, lessons[1]!.id, 10);
    assert.equal((await call(app, 'DELETE', `/api/lessons/${lessons[1]!.id}/`, { as: course.owner })).status, 204);
    const p = await progress(student, course.id);
    assert.equal(p.resume, null);
    assert.equal(p.lessons.length, 2);
  });
});
