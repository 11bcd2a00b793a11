import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createAdmin, createInstructor, createStudent, createCategory, createCourse } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { enrollViaApi } from '../helpers/actions.js';

const DAY_MS = 86_400_000;
const day = (offset = 0) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);

describe('instructor insight', () => {
  let app: TestApp;
  let admin: TestUser;
  before(async () => {
    app = await buildTestApp();
    admin = await createAdmin(app);
  });
  after(() => app.close());

  const analytics = (courseId: number, as?: TestUser, query = '') =>
    call(app, 'GET', `/api/courses/${courseId}/analytics/${query}`, { as });

  it('gives exact figures for a course built through the API, a hidden review and an unenrolment included', async () => {
    const instructor = await createInstructor(app);
    const category = await createCategory(app);
    const created = await call(app, 'POST', '/api/courses/', {
      as: instructor,
      body: {
        title: 'Figures',
        description: '',
        price: 0,
        category: category.id,
        is_published: true,
      },
    });
    assert.equal(created.status, 201);
    const courseId = created.body.id as number;
    const lessons: { id: number; title: string }[] = [];
    for (const title of ['One', 'Two', 'Three']) {
      const res = await call(app, 'POST', '/api/lessons/', { as: instructor, body: { course: courseId, title } });
      assert.equal(res.status, 201);
      lessons.push(res.body);
    }
    const students = await Promise.all(Array.from({ length: 5 }, () => createStudent(app)));
    for (const s of students) assert.equal((await enrollViaApi(app, s, courseId)).status, 201);
    const [s1, s2, s3, s4, leaver] = students as [TestUser, TestUser, TestUser, TestUser, TestUser];
    const complete = async (s: TestUser, count: number) => {
      for (const lesson of lessons.slice(0, count))
        assert.equal((await call(app, 'POST', `/api/lessons/${lesson.id}/complete/`, { as: s })).status, 200);
    };
    await complete(s1, 3);
    await complete(s2, 2);
    await complete(s3, 1);
    await complete(leaver, 3);
    assert.equal((await call(app, 'DELETE', `/api/enroll/${courseId}/`, { as: leaver })).status, 204);

    const ratings: [TestUser, number][] = [
      [s1, 5],
      [s2, 4],
      [s3, 3],
      [s4, 1],
    ];
    const reviewIds: number[] = [];
    for (const [s, rating] of ratings) {
      const res = await call(app, 'POST', '/api/reviews/', { as: s, body: { course: courseId, rating } });
      assert.equal(res.status, 201);
      reviewIds.push(res.body.id);
    }
    assert.equal((await call(app, 'POST', `/api/admin/reviews/${reviewIds[2]}/hide/`, { as: admin })).status, 200);

    const res = await analytics(courseId, instructor);
    assert.equal(res.status, 200);
    const { enrollments_by_day: days, ...figures } = res.body;
    assert.deepEqual(figures, {
      students_count: 4,
      completed_count: 1,
      completion_rate: 25,
      // (100 + 66.67 + 33.33 + 0) / 4
      average_progress: 50,
      lessons: [
        { id: lessons[0]!.id, title: 'One', order: 1, completed_count: 3, completion_rate: 75 },
        { id: lessons[1]!.id, title: 'Two', order: 2, completed_count: 2, completion_rate: 50 },
        { id: lessons[2]!.id, title: 'Three', order: 3, completed_count: 1, completion_rate: 25 },
      ],
      rating_histogram: { 1: 1, 2: 0, 3: 0, 4: 1, 5: 1 },
      quizzes: [],
    });
    assert.equal(days.length, 30);
    assert.deepEqual(days[29], { date: day(), count: 4 });
    assert.equal(days[0].date, day(-29));
    assert.ok(days.slice(0, 29).every((d: { count: number }) => d.count === 0));

    // The course detail carries the same histogram and the visible aggregates.
    const detail = await call(app, 'GET', `/api/courses/${courseId}/`);
    assert.deepEqual(detail.body.rating_histogram, { 1: 1, 2: 0, 3: 0, 4: 1, 5: 1 });
    assert.equal(detail.body.reviews_count, 3);
    assert.equal(detail.body.average_rating, 3.33);

    // Right after a write, the figures move with it (no cache): s2 finishes, the hidden review comes back.
    await complete(s2, 3);
    assert.equal((await call(app, 'POST', `/api/admin/reviews/${reviewIds[2]}/unhide/`, { as: admin })).status, 200);
    const after = (await analytics(courseId, admin, `?from=${day()}&to=${day()}`)).body;
    assert.equal(after.completed_count, 2);
    assert.equal(after.completion_rate, 50);
    // (100 + 100 + 33.33 + 0) / 4 = 58.3325
    assert.equal(after.average_progress, 58.33);
    assert.deepEqual(after.enrollments_by_day, [{ date: day(), count: 4 }]);
    assert.deepEqual(after.rating_histogram, { 1: 1, 2: 0, 3: 1, 4: 1, 5: 1 });
    assert.equal(after.lessons[2].completed_count, 2);

    // A lesson removed takes its completions with it; progress is recomputed.
    assert.equal((await call(app, 'DELETE', `/api/lessons/${lessons[2]!.id}/`, { as: instructor })).status, 204);
    const shrunk = (await analytics(courseId, instructor)).body;
    assert.deepEqual(
      shrunk.lessons.map((l: { id: number }) => l.id),
      [lessons[0]!.id, lessons[1]!.id],
    );
    // Progress now: s1 100, s2 100, s3 50, s4 0.
    assert.equal(shrunk.average_progress, 62.5);
    assert.equal(shrunk.completed_count, 2);
  });

  it('gives each quiz of the course its attempts, students, pass rate and mean score, by lesson order', async () => {
    const course = await createCourse(app);
    const lessons: { id: number }[] = [];
    for (const title of ['First', 'Second', 'Third'])
      lessons.push((await call(app, 'POST', '/api/lessons/', { as: course.owner, body: { course: course.id, title } })).body);
    const quizDoc = {
      pass_mark: 50,
      questions: [
        { kind: 'single', prompt: 'Pick B', choices: [{ text: 'A' }, { text: 'B', correct: true }] },
        { kind: 'single', prompt: 'Pick C', choices: [{ text: 'C', correct: true }, { text: 'D' }] },
      ],
    };
    // Quizzes on the third and first lessons (created in that order); none on the second.
    const quizzes: Record<number, { questions: { id: number; choices: { id: number; correct: boolean }[] }[] }> = {};
    for (const lesson of [lessons[2]!, lessons[0]!]) {
      const res = await call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, { as: course.owner, body: quizDoc });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      quizzes[lesson.id] = res.body;
    }
    const answers = (lessonId: number, right: number) =>
      quizzes[lessonId]!.questions.map((q, i) => ({
        question: q.id,
        choices: q.choices.filter((c) => (i < right ? c.correct : !c.correct)).map((c) => c.id),
      }));
    const students = await Promise.all(Array.from({ length: 3 }, () => createStudent(app)));
    for (const s of students) assert.equal((await enrollViaApi(app, s, course.id)).status, 201);
    const attempt = async (s: TestUser, lessonId: number, right: number) =>
      assert.equal(
        (await call(app, 'POST', `/api/lessons/${lessonId}/quiz/attempts/`, { as: s, body: { answers: answers(lessonId, right) } })).status,
        201,
      );
    const first = lessons[0]!.id;
    // Scores 0, 50 (pass) by the first student; 100 by the second; 0 by the third.
    await attempt(students[0]!, first, 0);
    await attempt(students[0]!, first, 1);
    await attempt(students[1]!, first, 2);
    await attempt(students[2]!, first, 0);
    const res = (await analytics(course.id, course.owner)).body;
    assert.deepEqual(res.quizzes, [
      { lesson: first, attempts: 4, students: 3, pass_rate: 66.67, average_score: 37.5 },
      { lesson: lessons[2]!.id, attempts: 0, students: 0, pass_rate: 0, average_score: null },
    ]);
  });

  it('counts enrollments by UTC day over the requested range, zeros included', async () => {
    const course = await createCourse(app);
    const students = await Promise.all(Array.from({ length: 6 }, () => createStudent(app)));
    const on = [day(-40), day(-10), day(-10), day(-1), `${day()}T00:00:00.000Z`, `${day()}T23:59:59.999Z`];
    await app.database.db
      .insertInto('enrollments')
      .values(
        students.map((s, i) => ({
          student_id: s.user.id,
          course_id: course.id,
          enrolled_on: on[i]!.length === 10 ? `${on[i]}T12:00:00.000Z` : on[i]!,
          completed_at: null,
        })),
      )
      .execute();
    const byDefault = (await analytics(course.id, course.owner)).body;
    assert.equal(byDefault.students_count, 6);
    const counts = Object.fromEntries(byDefault.enrollments_by_day.map((d: { date: string; count: number }) => [d.date, d.count]));
    assert.equal(Object.keys(counts).length, 30);
    assert.deepEqual([counts[day(-10)], counts[day(-1)], counts[day()], counts[day(-29)]], [2, 1, 2, 0]);
    const wide = (await analytics(course.id, course.owner, `?from=${day(-40)}&to=${day(-10)}`)).body.enrollments_by_day;
    assert.equal(wide.length, 31);
    assert.deepEqual(wide[0], { date: day(-40), count: 1 });
    assert.deepEqual(wide[30], { date: day(-10), count: 2 });
    // `to` alone: the 30 days ending there.
    const ending = (await analytics(course.id, course.owner, `?to=${day(-10)}`)).body.enrollments_by_day;
    assert.deepEqual([ending.length, ending[0].date, ending[29]], [30, day(-39), { date: day(-10), count: 2 }]);
    // A leap year's 366 days are allowed.
    assert.equal((await analytics(course.id, course.owner, '?from=2024-01-01&to=2024-12-31')).body.enrollments_by_day.length, 366);
  });

  it('refuses bad ranges with a 400: wrong format, an impossible day, from after to, more than 366 days', async () => {
    const course = await createCourse(app);
    const cases: [string, string, string][] = [
      ['?from=yesterday', 'from', 'invalid'],
      ['?to=2026-02-30', 'to', 'invalid'],
      ['?from=2026-1-05', 'from', 'invalid'],
      [`?from=${day()}&to=${day(-1)}`, 'non_field_errors', 'invalid_range'],
      [`?from=${day(1)}`, 'non_field_errors', 'invalid_range'],
      ['?from=2023-01-01&to=2024-01-02', 'non_field_errors', 'range_too_long'],
    ];
    for (const [query, field, code] of cases) {
      const res = await analytics(course.id, course.owner, query);
      assert.equal(res.status, 400, query);
      assert.equal(res.headers['x-error-code'], code, query);
      assert.ok(Array.isArray(res.body[field]), `${query}: ${JSON.stringify(res.body)}`);
    }
    const summary = await call(app, 'GET', `/api/instructor/summary/?from=${day()}&to=${day(-3)}`, { as: course.owner });
    assert.equal(summary.status, 400);
    assert.equal(summary.headers['x-error-code'], 'invalid_range');
  });

  it("lets the owner and admins read analytics: others 403, anonymous 401, someone else's draft and unknown ids 404", async () => {
    const course = await createCourse(app);
    const draft = await createCourse(app, { is_published: false });
    const otherInstructor = await createInstructor(app);
    const student = await createStudent(app);
    assert.equal((await analytics(course.id, course.owner)).status, 200);
    assert.equal((await analytics(course.id, admin)).status, 200);
    assert.equal((await analytics(draft.id, draft.owner)).status, 200);
    assert.equal((await analytics(draft.id, admin)).status, 200);
    for (const who of [otherInstructor, student]) {
      const res = await analytics(course.id, who);
      assert.equal(res.status, 403);
      assert.equal(res.headers['x-error-code'], 'not_course_owner');
      assert.equal((await analytics(draft.id, who)).status, 404);
    }
    const anonymous = await analytics(course.id);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers['x-error-code'], 'not_authenticated');
    assert.equal((await analytics(999999, admin)).status, 404);
    assert.equal((await analytics(99999999999, admin)).status, 404);
    // An empty course: zeros, not a division by zero.
    const empty = (await analytics(course.id, course.owner)).body;
    assert.deepEqual(
      [empty.students_count, empty.completion_rate, empty.average_progress, empty.lessons, empty.rating_histogram],
      [0, 0, 0, [], { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 }],
    );
  });

  it("sums an instructor's courses (distinct students, visible reviews) and every course for admins; students 403, anonymous 401", async () => {
    const instructor = await createInstructor(app);
    const published = await createCourse(app, { instructor });
    const draft = await createCourse(app, { instructor, is_published: false });
    const elsewhere = await createCourse(app);
    const [a, b, c] = await Promise.all([createStudent(app), createStudent(app), createStudent(app)]);
    for (const s of [a, b]) assert.equal((await enrollViaApi(app, s, published.id)).status, 201);
    // The draft's students are enrolled directly (the API refuses drafts); b is counted once.
    for (const s of [b, c])
      await app.database.db
        .insertInto('enrollments')
        .values({ student_id: s.user.id, course_id: draft.id, enrolled_on: new Date().toISOString(), completed_at: null })
        .execute();
    assert.equal((await enrollViaApi(app, c, elsewhere.id)).status, 201);
    const ratings: [TestUser, number][] = [
      [a, 5],
      [b, 2],
    ];
    const ids: number[] = [];
    for (const [s, rating] of ratings)
      ids.push((await call(app, 'POST', '/api/reviews/', { as: s, body: { course: published.id, rating } })).body.id);

    const mine = await call(app, 'GET', '/api/instructor/summary/', { as: instructor });
    assert.equal(mine.status, 200);
    const { enrollments_by_day: days, ...figures } = mine.body;
    assert.deepEqual(figures, { courses_count: 2, published_count: 1, students_count: 3, reviews_count: 2, average_rating: 3.5 });
    assert.equal(days.length, 30);
    assert.deepEqual(days[29], { date: day(), count: 4 });

    assert.equal((await call(app, 'POST', `/api/admin/reviews/${ids[1]}/hide/`, { as: admin })).status, 200);
    const hidden = (await call(app, 'GET', `/api/instructor/summary/?from=${day()}`, { as: instructor })).body;
    assert.deepEqual([hidden.reviews_count, hidden.average_rating, hidden.enrollments_by_day], [1, 5, [{ date: day(), count: 4 }]]);

    const nothing = await call(app, 'GET', '/api/instructor/summary/', { as: await createInstructor(app) });
    assert.deepEqual(
      { ...nothing.body, enrollments_by_day: nothing.body.enrollments_by_day.length },
      {
        courses_count: 0,
        published_count: 0,
        students_count: 0,
        reviews_count: 0,
        average_rating: null,
        enrollments_by_day: 30,
      },
    );

    const all = (await call(app, 'GET', '/api/instructor/summary/', { as: admin })).body;
    const rows = await app.database.db.selectFrom('enrollments').select('student_id').distinct().execute();
    const courses = await app.database.db.selectFrom('courses').select(['id', 'is_published']).execute();
    assert.equal(all.students_count, rows.length);
    assert.equal(all.courses_count, courses.length);
    assert.equal(all.published_count, courses.filter((row) => row.is_published === true || row.is_published === 1).length);

    const student = await call(app, 'GET', '/api/instructor/summary/', { as: a });
    assert.equal(student.status, 403);
    assert.equal((await call(app, 'GET', '/api/instructor/summary/')).status, 401);
  });
});

describe('instructor insight and moderation in the OpenAPI document', () => {
  it('names every new schema', async () => {
    const app = await buildTestApp();
    try {
      const doc = (await call(app, 'GET', '/api/schema/')).body;
      /** The schema's name: a $ref into components (once hoisted) or its title. */
      const nameOf = (schema: { $ref?: string; title?: string } | undefined) => schema?.$ref?.split('/').pop() ?? schema?.title;
      const response = (path: string, method: string, status: string) =>
        nameOf(doc.paths[path][method].responses[status].content['application/json'].schema);
      const body = (path: string, method: string) => nameOf(doc.paths[path][method].requestBody.content['application/json'].schema);
      assert.equal(response('/api/courses/{id}/analytics/', 'get', '200'), 'CourseAnalytics');
      assert.equal(response('/api/instructor/summary/', 'get', '200'), 'InstructorSummary');
      assert.equal(response('/api/reviews/{id}/reply/', 'put', '200'), 'Review');
      assert.equal(body('/api/reviews/{id}/reply/', 'put'), 'ReviewReplyRequest');
      assert.equal(body('/api/reviews/{id}/report/', 'post'), 'ReviewReportRequest');
      assert.equal(response('/api/reviews/{id}/report/', 'post', '202'), 'ReviewReport');
      assert.equal(response('/api/admin/reports/', 'get', '200'), 'PaginatedReviewReportList');
      assert.equal(response('/api/admin/reviews/{id}/hide/', 'post', '200'), 'Review');
    } finally {
      await app.close();
    }
  });
});
