import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import type { TestUser } from '../helpers/factories.js';
import { createStudent, createInstructor, createAdmin, createCourse, insertEnrollmentRow } from '../helpers/factories.js';

describe('lessons', () => {
  let app: TestApp;
  let owner: TestUser;
  let other: TestUser;
  let student: TestUser;
  let admin: TestUser;

  before(async () => {
    app = await buildTestApp();
    owner = await createInstructor(app);
    other = await createInstructor(app);
    student = await createStudent(app);
    admin = await createAdmin(app);
  });
  after(() => app.close());

  const post = (user: TestUser | null, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/api/lessons/', headers: user?.headers ?? {}, payload });
  const patch = (user: TestUser | null, id: number, payload: Record<string, unknown>, method: 'PATCH' | 'PUT' = 'PATCH') =>
    app.inject({ method, url: `/api/lessons/${id}/`, headers: user?.headers ?? {}, payload });
  const counters = async (courseId: number) => {
    const row = await app.database.db
      .selectFrom('courses')
      .select(['lessons_count', 'total_duration'])
      .where('id', '=', courseId)
      .executeTakeFirstOrThrow();
    return { lessons_count: Number(row.lessons_count), total_duration: Number(row.total_duration) };
  };

  it('creates a lesson with every field, after the last by default, and keeps the course counters', async () => {
    const course = await createCourse(app, { instructor: owner });
    const first = await post(owner, {
      course: course.id,
      title: ' Intro ',
      content: '# Hello\n\n*markdown*',
      duration: 90,
      is_preview: true,
    });
    assert.equal(first.statusCode, 201, first.body);
    const lesson = first.json();
    assert.deepEqual(Object.keys(lesson).sort(), [
      'attachment',
      'content',
      'course',
      'created_at',
      'duration',
      'id',
      'is_preview',
      'order',
      'section',
      'title',
      'updated_at',
      'video',
    ]);
    assert.equal(lesson.course, course.id);
    assert.equal(lesson.title, 'Intro');
    assert.equal(lesson.content, '# Hello\n\n*markdown*');
    assert.equal(lesson.order, 1);
    assert.equal(lesson.duration, 90);
    assert.equal(lesson.is_preview, true);
    assert.equal(lesson.video, null);
    assert.equal(lesson.attachment, null);
    assert.match(lesson.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const second = await post(owner, { course: course.id, title: 'Two' });
    assert.equal(second.json().order, 2);
    assert.equal(second.json().duration, 0);
    assert.equal(second.json().is_preview, false);
    assert.equal(second.json().content, '');
    const tenth = await post(owner, { course: course.id, title: 'Ten', order: 10, duration: 30 });
    assert.equal(tenth.json().order, 10);
    const after10 = await post(owner, { course: course.id, title: 'Eleven' });
    assert.equal(after10.json().order, 11);
    assert.deepEqual(await counters(course.id), { lessons_count: 4, total_duration: 120 });

    const detail = await app.inject({ method: 'GET', url: `/api/courses/${course.id}/`, headers: owner.headers });
    assert.equal(detail.statusCode, 200, detail.body);
    assert.deepEqual(
      detail.json().lessons.map((l: { order: number }) => l.order),
      [1, 2, 10, 11],
    );
    assert.equal(detail.json().lessons_count, 4);
    assert.equal(detail.json().total_duration, 120);
  });

  it('refuses a clashing or invalid order, a bad duration and a blank title, each on its field', async () => {
    const course = await createCourse(app, { instructor: owner });
    assert.equal((await post(owner, { course: course.id, title: 'One', order: 3 })).statusCode, 201);
    const clash = await post(owner, { course: course.id, title: 'Again', order: 3 });
    assert.equal(clash.statusCode, 400);
    assert.deepEqual(Object.keys(clash.json()), ['order']);
    for (const order of [0, -1, 1.5, 'x', 2_147_483_648]) {
      const res = await post(owner, { course: course.id, title: 'Bad order', order });
      assert.equal(res.statusCode, 400, `order ${order}`);
      assert.ok(res.json().order, res.body);
    }
    for (const duration of [-1, 2.5, 'long', 2_147_483_648]) {
      const res = await post(owner, { course: course.id, title: 'Bad duration', duration });
      assert.equal(res.statusCode, 400, `duration ${duration}`);
      assert.ok(res.json().duration, res.body);
    }
    for (const title of ['', '   ', 'x'.repeat(201)]) {
      const res = await post(owner, { course: course.id, title });
      assert.equal(res.statusCode, 400);
      assert.ok(res.json().title, res.body);
    }
    const missing = await post(owner, { title: 'No course' });
    assert.equal(missing.statusCode, 400);
    assert.ok(missing.json().course);
    assert.deepEqual(await counters(course.id), { lessons_count: 1, total_duration: 0 });
  });

  it('lets only the owner and admins add lessons: 401 anonymous, 403 others, 400 for a course the caller cannot see', async () => {
    const course = await createCourse(app, { instructor: owner, is_published: true });
    const draft = await createCourse(app, { instructor: owner, is_published: false });
    assert.equal((await post(null, { course: course.id, title: 'x' })).statusCode, 401);
    assert.equal((await post(student, { course: course.id, title: 'x' })).statusCode, 403);
    assert.equal((await post(other, { course: course.id, title: 'x' })).statusCode, 403);
    const hidden = await post(other, { course: draft.id, title: 'x' });
    assert.equal(hidden.statusCode, 400);
    assert.ok(hidden.json().course);
    const unknown = await post(owner, { course: 999_999, title: 'x' });
    assert.equal(unknown.statusCode, 400);
    assert.ok(unknown.json().course);
    assert.equal((await post(owner, { course: draft.id, title: 'Draft lesson' })).statusCode, 201);
    assert.equal((await post(admin, { course: course.id, title: 'By admin' })).statusCode, 201);
  });

  it('updates a lesson: the course is fixed, the order stays unique, duration moves the counters', async () => {
    const course = await createCourse(app, { instructor: owner });
    const elsewhere = await createCourse(app, { instructor: owner });
    const a = (await post(owner, { course: course.id, title: 'A', duration: 100 })).json();
    const b = (await post(owner, { course: course.id, title: 'B', duration: 50 })).json();

    const renamed = await patch(owner, a.id, { title: 'A2', content: 'new', is_preview: true, duration: 40, course: course.id });
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.equal(renamed.json().title, 'A2');
    assert.equal(renamed.json().content, 'new');
    assert.equal(renamed.json().is_preview, true);
    assert.equal(renamed.json().order, 1);
    assert.deepEqual(await counters(course.id), { lessons_count: 2, total_duration: 90 });

    const moved = await patch(owner, a.id, { course: elsewhere.id });
    assert.equal(moved.statusCode, 400);
    assert.ok(moved.json().course);
    const clash = await patch(owner, a.id, { order: b.order });
    assert.equal(clash.statusCode, 400);
    assert.ok(clash.json().order);
    assert.equal((await patch(owner, a.id, { order: 5 })).json().order, 5);
    assert.equal((await patch(owner, a.id, { order: 5 })).statusCode, 200, 'its own order is no clash');

    const put = await patch(owner, b.id, { title: 'B2' }, 'PUT');
    assert.equal(put.statusCode, 400);
    assert.ok(put.json().course);
    const replaced = await patch(owner, b.id, { course: course.id, title: 'B3', duration: 0 }, 'PUT');
    assert.equal(replaced.statusCode, 200, replaced.body);
    assert.equal(replaced.json().title, 'B3');
    assert.deepEqual(await counters(course.id), { lessons_count: 2, total_duration: 40 });
    assert.equal((await patch(admin, b.id, { title: 'By admin' })).statusCode, 200);
  });

  it('lets only the owner and admins change or delete a lesson', async () => {
    const published = await createCourse(app, { instructor: owner, is_published: true });
    const draft = await createCourse(app, { instructor: owner, is_published: false });
    const open = (await post(owner, { course: published.id, title: 'Open', is_preview: true })).json();
    const hidden = (await post(owner, { course: draft.id, title: 'Hidden' })).json();
    await insertEnrollmentRow(app, student.user.id, published.id);
    for (const method of ['PATCH', 'PUT', 'DELETE'] as const) {
      const payload = method === 'DELETE' ? undefined : { course: published.id, title: 'x' };
      const as = (user: TestUser | null, id: number) =>
        app.inject({ method, url: `/api/lessons/${id}/`, headers: user?.headers ?? {}, ...(payload ? { payload } : {}) });
      assert.equal((await as(null, open.id)).statusCode, 401, method);
      assert.equal((await as(student, open.id)).statusCode, 403, method);
      assert.equal((await as(other, open.id)).statusCode, 403, method);
      assert.equal((await as(other, hidden.id)).statusCode, 404, method);
      assert.equal((await as(owner, 987_654)).statusCode, 404, method);
    }
    assert.equal((await app.inject({ method: 'GET', url: `/api/lessons/${open.id}/` })).json().title, 'Open');
  });

  it('deletes a lesson with its counters and recomputes the progress of enrolled students in the same step', async () => {
    const course = await createCourse(app, { instructor: owner, is_published: true });
    const [a, b] = [
      (await post(owner, { course: course.id, title: 'A', duration: 10 })).json(),
      (await post(owner, { course: course.id, title: 'B', duration: 20 })).json(),
    ];
    const learner = await createStudent(app);
    await insertEnrollmentRow(app, learner.user.id, course.id);
    const enrollment = await app.database.db
      .selectFrom('enrollments')
      .select('id')
      .where('student_id', '=', learner.user.id)
      .where('course_id', '=', course.id)
      .executeTakeFirstOrThrow();
    await app.database.db
      .insertInto('lesson_completions')
      .values({ enrollment_id: enrollment.id, lesson_id: a.id, completed_at: new Date().toISOString() })
      .execute();
    await app.services.enrollments.recomputeCourseProgress(app.database.db, course.id);
    const progress = async () =>
      Number(
        (await app.database.db.selectFrom('enrollments').select('progress').where('id', '=', enrollment.id).executeTakeFirstOrThrow())
          .progress,
      );
    assert.equal(await progress(), 50);

    // Adding a lesson lowers it, removing one raises it again.
    const c = (await post(owner, { course: course.id, title: 'C', duration: 30 })).json();
    assert.equal(await progress(), 33.33);
    const deleted = await app.inject({ method: 'DELETE', url: `/api/lessons/${b.id}/`, headers: owner.headers });
    assert.equal(deleted.statusCode, 204);
    assert.equal(deleted.body, '');
    assert.equal(await progress(), 50);
    assert.deepEqual(await counters(course.id), { lessons_count: 2, total_duration: 40 });
    assert.equal((await app.inject({ method: 'GET', url: `/api/lessons/${b.id}/`, headers: owner.headers })).statusCode, 404);
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/lessons/${b.id}/`, headers: owner.headers })).statusCode, 404);
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/lessons/${c.id}/`, headers: admin.headers })).statusCode, 204);
    assert.equal(await progress(), 100);
  });

  it('gives concurrent creates distinct orders after the last and never a 5xx', async () => {
    const course = await createCourse(app, { instructor: owner });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post(owner, { course: course.id, title: `L${i}`, duration: 5 })),
    );
    assert.deepEqual(
      results.map((r) => r.statusCode),
      Array(12).fill(201),
    );
    assert.deepEqual(
      results.map((r) => r.json().order).sort((x: number, y: number) => x - y),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    // The same explicit order at once: one wins, the others are told on the field.
    const racing = await Promise.all(Array.from({ length: 6 }, () => post(owner, { course: course.id, title: 'Race', order: 50 })));
    assert.deepEqual(racing.map((r) => r.statusCode).sort(), [201, 400, 400, 400, 400, 400]);
    assert.deepEqual(await counters(course.id), { lessons_count: 13, total_duration: 60 });
  });

  it('lists a course\u2019s lessons by order, paginated DRF-style, and refuses a bad course parameter', async () => {
    const course = await createCourse(app, { instructor: owner, is_published: true });
    for (const order of [3, 1, 2, 5, 4]) await post(owner, { course: course.id, title: `Order ${order}`, order });
    const page1 = await app.inject({ method: 'GET', url: `/api/lessons/?course=${course.id}&page_size=2`, headers: owner.headers });
    assert.equal(page1.statusCode, 200);
    const body = page1.json();
    assert.equal(body.count, 5);
    assert.deepEqual(
      body.results.map((l: { order: number }) => l.order),
      [1, 2],
    );
    assert.match(body.next, /page=2/);
    assert.equal(body.previous, null);
    const page3 = await app.inject({ method: 'GET', url: `/api/lessons/?course=${course.id}&page_size=2&page=3`, headers: owner.headers });
    assert.deepEqual(
      page3.json().results.map((l: { order: number }) => l.order),
      [5],
    );
    const past = await app.inject({ method: 'GET', url: `/api/lessons/?course=${course.id}&page=9`, headers: owner.headers });
    assert.equal(past.statusCode, 404);
    assert.deepEqual(past.json(), { detail: 'Invalid page.' });
    const bad = await app.inject({ method: 'GET', url: '/api/lessons/?course=abc' });
    assert.equal(bad.statusCode, 400);
    assert.ok(bad.json().course);
    const unknown = await app.inject({ method: 'GET', url: '/api/lessons/?course=424242' });
    assert.equal(unknown.statusCode, 200);
    assert.equal(unknown.json().count, 0);
  });

  it('answers 404 for an unknown or malformed lesson id', async () => {
    for (const id of ['999999', 'abc', '0', '99999999999']) {
      const res = await app.inject({ method: 'GET', url: `/api/lessons/${id}/`, headers: admin.headers });
      assert.equal(res.statusCode, 404, id);
      assert.deepEqual(res.json(), { detail: 'Not found.' });
    }
  });
});
