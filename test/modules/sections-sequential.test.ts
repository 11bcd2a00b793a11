import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createAdmin, createStudent, createCourse, createLesson } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import type { LessonRow } from '../../src/db/types.js';
import { call } from '../helpers/http.js';
import { completeLessonViaApi, enrollViaApi } from '../helpers/actions.js';

describe(`sequential courses (${onPostgres ? 'postgres' : 'sqlite'})`, () => {
  let app: TestApp;
  let admin: TestUser;
  before(async () => {
    app = await buildTestApp();
    admin = await createAdmin(app);
  });
  after(() => app.close());

  /** A sequential course of 4 lessons (the third a preview), each with a video, and an enrolled student. */
  async function setup() {
    const course = await createCourse(app);
    const lessons: LessonRow[] = [];
    for (let i = 0; i < 4; i++) lessons.push(await createLesson(app, course.id, { is_preview: i === 2, duration: 100 }));
    await app.database.db.updateTable('lessons').set({ video: 'videos/sample.mp4' }).where('course_id', '=', course.id).execute();
    const turnOn = await call(app, 'PATCH', `/api/courses/${course.id}/`, { as: course.owner, body: { sequential: true } });
    assert.equal(turnOn.status, 200);
    assert.equal(turnOn.body.sequential, true);
    const student = await createStudent(app);
    assert.equal((await enrollViaApi(app, student, course.id)).status, 201);
    return { course, lessons, student };
  }

  const locksOf = async (courseId: number, as: TestUser) => {
    const detail = await call(app, 'GET', `/api/courses/${courseId}/`, { as });
    return detail.body.lessons.map((l: { completed: boolean; locked: boolean }) => [l.completed, l.locked]);
  };

  it('sequential is false by default and writable by the owner on POST, PUT and PATCH; others cannot', async () => {
    const course = await createCourse(app);
    assert.equal((await call(app, 'GET', `/api/courses/${course.id}/`)).body.sequential, false);
    const category = course.category_id;
    const created = await call(app, 'POST', '/api/courses/', {
      as: course.owner,
      body: {
        title: 'Seq',
        description: '',
        price: 0,
        category,
        sequential: true,
      },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.sequential, true);
    const put = await call(app, 'PUT', `/api/courses/${created.body.id}/`, {
      as: course.owner,
      body: {
        title: 'Seq',
        description: '',
        price: 0,
        category,
        sequential: false,
      },
    });
    assert.equal(put.body.sequential, false);
    const other = await createStudent(app);
    assert.equal((await call(app, 'PATCH', `/api/courses/${course.id}/`, { as: other, body: { sequential: true } })).status, 403);
    assert.equal((await call(app, 'PATCH', `/api/courses/${course.id}/`, { as: course.owner, body: { sequential: 'maybe' } })).status, 400);
    assert.equal((await call(app, 'GET', `/api/courses/${course.id}/`)).body.sequential, false);
  });

  it('course detail: for the enrolled student each lesson says completed and locked; a preview is never locked', async () => {
    const { course, lessons, student } = await setup();
    assert.deepEqual(await locksOf(course.id, student), [
      [false, false],
      [false, true],
      [false, false],
      [false, true],
    ]);
    assert.equal((await completeLessonViaApi(app, student, lessons[0]!.id)).status, 200);
    assert.deepEqual(await locksOf(course.id, student), [
      [true, false],
      [false, false],
      [false, false],
      [false, true],
    ]);
    assert.equal((await completeLessonViaApi(app, student, lessons[1]!.id)).status, 200);
    assert.equal((await completeLessonViaApi(app, student, lessons[2]!.id)).status, 200);
    assert.deepEqual(await locksOf(course.id, student), [
      [true, false],
      [true, false],
      [true, false],
      [false, false],
    ]);
    // Unmarking an earlier lesson locks the later ones again.
    assert.equal((await call(app, 'DELETE', `/api/lessons/${lessons[0]!.id}/complete/`, { as: student })).status, 200);
    assert.deepEqual(await locksOf(course.id, student), [
      [false, false],
      [true, true],
      [true, false],
      [false, true],
    ]);
    // The owner, admins, anonymous and not-enrolled callers see no completed/locked fields.
    for (const viewer of [course.owner, admin, undefined, await createStudent(app)]) {
      const detail = await call(app, 'GET', `/api/courses/${course.id}/`, { as: viewer });
      assert.equal('locked' in detail.body.lessons[1], false);
      assert.equal('completed' in detail.body.lessons[1], false);
    }
  });

  it('lesson detail: a locked lesson is 403 lesson_locked with no media URL; it opens once the previous lessons are done', async () => {
    const { lessons, student } = await setup();
    const first = await call(app, 'GET', `/api/lessons/${lessons[0]!.id}/`, { as: student });
    assert.equal(first.status, 200);
    assert.match(first.body.video, /signature=/);
    const locked = await call(app, 'GET', `/api/lessons/${lessons[1]!.id}/`, { as: student });
    assert.equal(locked.status, 403);
    assert.equal(locked.headers['x-error-code'], 'lesson_locked');
    assert.match(locked.body.detail, /previous lessons/);
    assert.equal(locked.body.video, undefined);
    // The preview is open to everyone, the enrolled student included.
    assert.equal((await call(app, 'GET', `/api/lessons/${lessons[2]!.id}/`, { as: student })).status, 200);
    assert.equal((await call(app, 'GET', `/api/lessons/${lessons[3]!.id}/`, { as: student })).headers['x-error-code'], 'lesson_locked');
    await completeLessonViaApi(app, student, lessons[0]!.id);
    const opened = await call(app, 'GET', `/api/lessons/${lessons[1]!.id}/`, { as: student });
    assert.equal(opened.status, 200);
    assert.match(opened.body.video, /signature=/);
  });

  it('owners, admins and non-enrolled callers are unaffected by the lock (full, full, the usual 403/401)', async () => {
    const { course, lessons } = await setup();
    assert.equal((await call(app, 'GET', `/api/lessons/${lessons[3]!.id}/`, { as: course.owner })).status, 200);
    assert.equal((await call(app, 'GET', `/api/lessons/${lessons[3]!.id}/`, { as: admin })).status, 200);
    const outsider = await call(app, 'GET', `/api/lessons/${lessons[3]!.id}/`, { as: await createStudent(app) });
    assert.equal(outsider.status, 403);
    assert.notEqual(outsider.headers['x-error-code'], 'lesson_locked');
    assert.equal((await call(app, 'GET', `/api/lessons/${lessons[3]!.id}/`)).status, 401);
    const ownerList = await call(app, 'GET', `/api/lessons/?course=${course.id}`, { as: course.owner });
    assert.equal(ownerList.body.count, 4);
  });

  it('lesson list: locked lessons are left out (the list shows what the caller may read in full)', async () => {
    const { course, lessons, student } = await setup();
    // Without course, before anything is done: the locked lessons are left out there too.
    const none = await call(app, 'GET', '/api/lessons/?page_size=100', { as: student });
    assert.deepEqual(
      none.body.results.filter((l: { course: number }) => l.course === course.id).map((l: { id: number }) => l.id),
      [lessons[0]!.id, lessons[2]!.id],
    );
    const ids = async () =>
      (await call(app, 'GET', `/api/lessons/?course=${course.id}`, { as: student })).body.results.map((l: { id: number }) => l.id);
    assert.deepEqual(await ids(), [lessons[0]!.id, lessons[2]!.id]);
    await completeLessonViaApi(app, student, lessons[0]!.id);
    assert.deepEqual(await ids(), [lessons[0]!.id, lessons[1]!.id, lessons[2]!.id]);
    await completeLessonViaApi(app, student, lessons[1]!.id);
    await completeLessonViaApi(app, student, lessons[2]!.id);
    assert.deepEqual(
      await ids(),
      lessons.map((l) => l.id),
    );
    // Without course (other tests' preview lessons aside): the same rule.
    const all = await call(app, 'GET', '/api/lessons/?page_size=100', { as: student });
    const ofCourse = all.body.results.filter((l: { course: number }) => l.course === course.id);
    assert.deepEqual(
      ofCourse.map((l: { id: number }) => l.id),
      lessons.map((l) => l.id),
    );
    // Every URL the list gives is for a lesson the student may read.
    const list = await call(app, 'GET', `/api/lessons/?course=${course.id}`, { as: student });
    assert.ok(list.body.results.every((l: { video: string }) => /signature=/.test(l.video)));
  });

  it('completion: a locked lesson cannot be completed (403 lesson_locked, nothing recorded); unmarking is allowed', async () => {
    const { lessons, student } = await setup();
    const refused = await completeLessonViaApi(app, student, lessons[1]!.id);
    assert.equal(refused.status, 403);
    assert.equal(refused.headers['x-error-code'], 'lesson_locked');
    const rows = await app.database.db.selectFrom('lesson_completions').select('id').where('lesson_id', '=', lessons[1]!.id).execute();
    assert.equal(rows.length, 0);
    assert.equal((await call(app, 'DELETE', `/api/lessons/${lessons[3]!.id}/complete/`, { as: student })).status, 200);
    // The preview can be completed out of order; it does not open the lesson after it while an earlier one is open.
    assert.equal((await completeLessonViaApi(app, student, lessons[2]!.id)).status, 200);
    assert.equal((await completeLessonViaApi(app, student, lessons[3]!.id)).headers['x-error-code'], 'lesson_locked');
    assert.equal((await completeLessonViaApi(app, student, lessons[0]!.id)).status, 200);
    assert.equal((await completeLessonViaApi(app, student, lessons[1]!.id)).status, 200);
    const last = await completeLessonViaApi(app, student, lessons[3]!.id);
    assert.equal(last.status, 200);
    assert.equal(last.body.progress, 100);
  });

  it('position: a locked lesson refuses the heartbeat (403 lesson_locked)', async () => {
    const { lessons, student } = await setup();
    const refused = await call(app, 'PUT', `/api/lessons/${lessons[1]!.id}/position/`, { as: student, body: { position: 10 } });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers['x-error-code'], 'lesson_locked');
    const rows = await app.database.db.selectFrom('lesson_positions').select('id').where('lesson_id', '=', lessons[1]!.id).execute();
    assert.equal(rows.length, 0);
    assert.equal((await call(app, 'PUT', `/api/lessons/${lessons[0]!.id}/position/`, { as: student, body: { position: 10 } })).status, 200);
    assert.equal((await call(app, 'PUT', `/api/lessons/${lessons[2]!.id}/position/`, { as: student, body: { position: 10 } })).status, 200);
  });

  it('reordering or turning sequential off changes the locks at once', async () => {
    const { course, lessons, student } = await setup();
    await completeLessonViaApi(app, student, lessons[0]!.id);
    await completeLessonViaApi(app, student, lessons[1]!.id);
    // The untouched last lesson moves first: everything after it is locked now.
    const reordered = await call(app, 'POST', `/api/courses/${course.id}/reorder/`, {
      as: course.owner,
      body: {
        lessons: [lessons[3]!.id, lessons[0]!.id, lessons[1]!.id, lessons[2]!.id],
      },
    });
    assert.equal(reordered.status, 200);
    assert.deepEqual(await locksOf(course.id, student), [
      [false, false],
      [true, true],
      [true, true],
      [false, false],
    ]);
    assert.equal((await call(app, 'GET', `/api/lessons/${lessons[0]!.id}/`, { as: student })).headers['x-error-code'], 'lesson_locked');
    await call(app, 'PATCH', `/api/courses/${course.id}/`, { as: course.owner, body: { sequential: false } });
    assert.equal((await call(app, 'GET', `/api/lessons/${lessons[0]!.id}/`, { as: student })).status, 200);
    assert.deepEqual(await locksOf(course.id, student), [
      [false, false],
      [true, false],
      [true, false],
      [false, false],
    ]);
  });

  it('a course that is not sequential locks nothing', async () => {
    const course = await createCourse(app);
    const lessons = [await createLesson(app, course.id), await createLesson(app, course.id)];
    const student = await createStudent(app);
    await enrollViaApi(app, student, course.id);
    assert.equal((await call(app, 'GET', `/api/lessons/${lessons[1]!.id}/`, { as: student })).status, 200);
    assert.equal((await completeLessonViaApi(app, student, lessons[1]!.id)).status, 200);
    assert.deepEqual(await locksOf(course.id, student), [
      [false, false],
      [true, false],
    ]);
  });
});
