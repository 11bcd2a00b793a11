import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createStudent, createInstructor, createAdmin, createCourse, createLessons } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { untilClockPasses } from '../helpers/wait.js';
import { enrollViaApi, completeLessonViaApi, courseCounters } from '../helpers/actions.js';

describe('enrollments', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  describe('POST /api/enroll/{course_id}/', () => {
    it('enrolls a student: 201 with the course list item, progress 0, and counts the student at once', async () => {
      const course = await createCourse(app);
      const student = await createStudent(app);
      const res = await enrollViaApi(app, student, course.id);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body).sort(), ['completed_at', 'course', 'enrolled_on', 'id', 'progress']);
      assert.equal(res.body.progress, 0);
      assert.equal(res.body.completed_at, null);
      assert.ok(!Number.isNaN(Date.parse(res.body.enrolled_on)));
      assert.equal(res.body.course.id, course.id);
      assert.equal(res.body.course.title, course.title);
      assert.equal(res.body.course.students_count, 1);
      assert.equal(res.body.course.instructor.id, course.owner.user.id);
      assert.equal('email' in res.body.course.instructor, false);
      assert.equal((await courseCounters(app, course.id)).students_count, 1);
    });

    it('answers 409 to a second enrollment and counts the student once', async () => {
      const course = await createCourse(app);
      const student = await createStudent(app);
      assert.equal((await enrollViaApi(app, student, course.id)).status, 201);
      const again = await enrollViaApi(app, student, course.id);
      assert.equal(again.status, 409);
      assert.equal(typeof again.body.detail, 'string');
      assert.equal((await courseCounters(app, course.id)).students_count, 1);
    });

    it('refuses instructors (the owner included) and admins with 403, anonymous callers with 401', async () => {
      const course = await createCourse(app);
      assert.equal((await enrollViaApi(app, await createInstructor(app), course.id)).status, 403);
      assert.equal((await enrollViaApi(app, course.owner, course.id)).status, 403);
      assert.equal((await enrollViaApi(app, await createAdmin(app), course.id)).status, 403);
      assert.equal((await call(app, 'POST', `/api/enroll/${course.id}/`)).status, 401);
      assert.equal((await courseCounters(app, course.id)).students_count, 0);
    });

    it('answers 404 for a draft, an unknown course and a malformed id', async () => {
      const draft = await createCourse(app, { is_published: false });
      const student = await createStudent(app);
      const res = await enrollViaApi(app, student, draft.id);
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, { detail: 'Not found.' });
      assert.equal((await enrollViaApi(app, student, 999_999)).status, 404);
      assert.equal((await call(app, 'POST', '/api/enroll/abc/', { as: student })).status, 404);
      assert.equal((await courseCounters(app, draft.id)).students_count, 0);
    });

    it('accepts the path without a trailing slash', async () => {
      const course = await createCourse(app);
      const student = await createStudent(app);
      assert.equal((await call(app, 'POST', `/api/enroll/${course.id}`, { as: student })).status, 201);
    });
  });

  describe('DELETE /api/enroll/{course_id}/', () => {
    it('unenrolls (204), removes the completions and the student from the count; re-enrolling starts from 0', async () => {
      const course = await createCourse(app);
      const [l1, l2] = await createLessons(app, course.id, 2);
      const student = await createStudent(app);
      const first = await enrollViaApi(app, student, course.id);
      assert.equal((await completeLessonViaApi(app, student, l1!.id)).status, 200);
      assert.equal((await completeLessonViaApi(app, student, l2!.id)).status, 200);
      const completionsOf = async (enrollmentId: number) =>
        (await app.database.db.selectFrom('lesson_completions').select('id').where('enrollment_id', '=', enrollmentId).execute()).length;
      assert.equal(await completionsOf(first.body.id), 2);

      const res = await call(app, 'DELETE', `/api/enroll/${course.id}/`, { as: student });
      assert.equal(res.status, 204);
      assert.equal(res.body, undefined);
      assert.equal(await completionsOf(first.body.id), 0);
      assert.equal((await courseCounters(app, course.id)).students_count, 0);

      const again = await enrollViaApi(app, student, course.id);
      assert.equal(again.status, 201);
      assert.equal(again.body.progress, 0);
      assert.equal(again.body.completed_at, null);
      const detail = await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: student });
      assert.equal(detail.body.completed_lessons, 0);
      assert.ok(detail.body.lessons.every((l: { completed: boolean }) => !l.completed));
    });

    it('answers 404 when the caller is not enrolled, and leaves the count alone', async () => {
      const course = await createCourse(app);
      const enrolled = await createStudent(app);
      await enrollViaApi(app, enrolled, course.id);
      assert.equal((await call(app, 'DELETE', `/api/enroll/${course.id}/`, { as: await createStudent(app) })).status, 404);
      assert.equal((await call(app, 'DELETE', `/api/enroll/${course.id}/`, { as: course.owner })).status, 404);
      assert.equal((await call(app, 'DELETE', '/api/enroll/999999/', { as: enrolled })).status, 404);
      assert.equal((await call(app, 'DELETE', `/api/enroll/${course.id}/`)).status, 401);
      assert.equal((await courseCounters(app, course.id)).students_count, 1);
    });
  });

  describe('GET /api/my-courses/', () => {
    it("lists the caller's enrollments newest first, paginated, and nobody else's", async () => {
      const student = await createStudent(app);
      const courses = [await createCourse(app), await createCourse(app), await createCourse(app)];
      for (const course of courses) {
        assert.equal((await enrollViaApi(app, student, course.id)).status, 201);
        await untilClockPasses(); // distinct enrolled_on times: equal ones fall back to ascending id
      }
      await enrollViaApi(app, await createStudent(app), courses[0]!.id);

      const res = await call(app, 'GET', '/api/my-courses/?page_size=2', { as: student });
      assert.equal(res.status, 200);
      assert.equal(res.body.count, 3);
      assert.deepEqual(
        res.body.results.map((e: { course: { id: number } }) => e.course.id),
        [courses[2]!.id, courses[1]!.id],
      );
      assert.ok(res.body.next.endsWith('/api/my-courses/?page_size=2&page=2'));
      assert.equal(res.body.previous, null);
      const item = res.body.results[0];
      assert.deepEqual(Object.keys(item).sort(), ['completed_at', 'course', 'enrolled_on', 'id', 'progress']);
      const last = await call(app, 'GET', '/api/my-courses/?page_size=2&page=2', { as: student });
      assert.deepEqual(
        last.body.results.map((e: { course: { id: number } }) => e.course.id),
        [courses[0]!.id],
      );
      assert.equal((await call(app, 'GET', '/api/my-courses/?page=3', { as: student })).status, 404);
    });

    it('hides a course that went back to draft (it exists only for its owner and admins)', async () => {
      const student = await createStudent(app);
      const course = await createCourse(app);
      await enrollViaApi(app, student, course.id);
      await app.database.db.updateTable('courses').set({ is_published: false }).where('id', '=', course.id).execute();
      const res = await call(app, 'GET', '/api/my-courses/', { as: student });
      assert.equal(res.body.count, 0);
      assert.equal((await call(app, 'GET', '/api/my-progress/', { as: student })).body.count, 0);
      assert.equal((await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: student })).status, 404);
    });

    it('is for students: instructors and admins 403, anonymous 401', async () => {
      assert.equal((await call(app, 'GET', '/api/my-courses/', { as: await createInstructor(app) })).status, 403);
      assert.equal((await call(app, 'GET', '/api/my-courses/', { as: await createAdmin(app) })).status, 403);
      assert.equal((await call(app, 'GET', '/api/my-courses/')).status, 401);
      assert.equal((await call(app, 'GET', '/api/my-progress/', { as: await createInstructor(app) })).status, 403);
      assert.equal((await call(app, 'GET', '/api/my-progress/')).status, 401);
    });
  });

  describe('progress endpoints', () => {
    it('GET /api/my-progress/ pages {course {id, title}, progress, completed_lessons, total_lessons, enrolled_on, completed_at}', async () => {
      const student = await createStudent(app);
      const course = await createCourse(app);
      const [l1] = await createLessons(app, course.id, 3);
      await enrollViaApi(app, student, course.id);
      await completeLessonViaApi(app, student, l1!.id);
      const res = await call(app, 'GET', '/api/my-progress/', { as: student });
      assert.equal(res.status, 200);
      assert.equal(res.body.count, 1);
      const [item] = res.body.results;
      assert.deepEqual(item.course, { id: course.id, title: course.title });
      assert.equal(item.progress, 33.33);
      assert.equal(item.completed_lessons, 1);
      assert.equal(item.total_lessons, 3);
      assert.equal(item.completed_at, null);
      assert.deepEqual(Object.keys(item).sort(), [
        'completed_at',
        'completed_lessons',
        'course',
        'enrolled_on',
        'progress',
        'total_lessons',
      ]);
    });

    it('GET /api/my-progress/{course_id}/ adds the lessons by order with completion flags; anyone else gets 404', async () => {
      const student = await createStudent(app);
      const course = await createCourse(app);
      const [l1, l2] = await createLessons(app, course.id, 2);
      await enrollViaApi(app, student, course.id);
      await completeLessonViaApi(app, student, l2!.id);
      const res = await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: student });
      assert.equal(res.status, 200);
      assert.equal(res.body.progress, 50);
      assert.equal(res.body.completed_lessons, 1);
      assert.equal(res.body.total_lessons, 2);
      assert.deepEqual(
        res.body.lessons.map((l: { id: number; order: number; completed: boolean }) => [l.id, l.order, l.completed]),
        [
          [l1!.id, 1, false],
          [l2!.id, 2, true],
        ],
      );
      assert.equal(res.body.lessons[0].completed_at, null);
      assert.ok(!Number.isNaN(Date.parse(res.body.lessons[1].completed_at)));
      assert.equal(res.body.lessons[1].title, l2!.title);

      assert.equal((await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: await createStudent(app) })).status, 404);
      assert.equal((await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: course.owner })).status, 404);
      assert.equal((await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: await createAdmin(app) })).status, 404);
      assert.equal((await call(app, 'GET', '/api/my-progress/999999/', { as: student })).status, 404);
      assert.equal((await call(app, 'GET', `/api/my-progress/${course.id}/`)).status, 401);
    });
  });

  describe('POST/DELETE /api/lessons/{id}/complete/', () => {
    it('marks and unmarks idempotently, answering {progress, completed_lessons, total_lessons, completed_at}', async () => {
      const student = await createStudent(app);
      const course = await createCourse(app);
      const [l1, l2, l3] = await createLessons(app, course.id, 3);
      await enrollViaApi(app, student, course.id);

      const first = await completeLessonViaApi(app, student, l1!.id);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body, { progress: 33.33, completed_lessons: 1, total_lessons: 3, completed_at: null });
      assert.deepEqual((await completeLessonViaApi(app, student, l1!.id)).body, first.body);

      await completeLessonViaApi(app, student, l2!.id);
      const done = await completeLessonViaApi(app, student, l3!.id);
      assert.equal(done.body.progress, 100);
      assert.equal(done.body.completed_lessons, 3);
      const completedAt = done.body.completed_at as string;
      assert.ok(!Number.isNaN(Date.parse(completedAt)));

      const undone = await call(app, 'DELETE', `/api/lessons/${l2!.id}/complete/`, { as: student });
      assert.equal(undone.status, 200);
      assert.deepEqual(undone.body, { progress: 66.67, completed_lessons: 2, total_lessons: 3, completed_at: completedAt });
      assert.deepEqual((await call(app, 'DELETE', `/api/lessons/${l2!.id}/complete/`, { as: student })).body, undone.body);

      // Reaching 100 again keeps the first completion time.
      assert.equal((await completeLessonViaApi(app, student, l2!.id)).body.completed_at, completedAt);
      const summary = await app.services.enrollments.summaryFor(student.user.id, course.id);
      assert.deepEqual(summary && { progress: summary.progress, completed_at: summary.completed_at }, {
        progress: 100,
        completed_at: completedAt,
      });
    });

    it('is for enrolled students: 403 otherwise (the owner and admins included), 401 anonymous', async () => {
      const course = await createCourse(app);
      const [lesson] = await createLessons(app, course.id, 1);
      const url = `/api/lessons/${lesson!.id}/complete/`;
      assert.equal((await call(app, 'POST', url, { as: await createStudent(app) })).status, 403);
      assert.equal((await call(app, 'POST', url, { as: course.owner })).status, 403);
      assert.equal((await call(app, 'POST', url, { as: await createAdmin(app) })).status, 403);
      assert.equal((await call(app, 'DELETE', url, { as: await createStudent(app) })).status, 403);
      assert.equal((await call(app, 'POST', url)).status, 401);
    });

    it("answers 404 for an unknown lesson and for a lesson of a course the caller can't see", async () => {
      const student = await createStudent(app);
      assert.equal((await completeLessonViaApi(app, student, 999_999)).status, 404);
      const course = await createCourse(app);
      const [lesson] = await createLessons(app, course.id, 1);
      await enrollViaApi(app, student, course.id);
      await app.database.db.updateTable('courses').set({ is_published: false }).where('id', '=', course.id).execute();
      const res = await completeLessonViaApi(app, student, lesson!.id);
      assert.equal(res.status, 404);
      assert.equal((await call(app, 'POST', `/api/lessons/${lesson!.id}/complete/`, { as: await createInstructor(app) })).status, 404);
    });
  });

  describe('GET /api/courses/{id}/students/', () => {
    it('pages {student (public user), enrolled_on, progress, completed_at} for the owner and admins', async () => {
      const course = await createCourse(app);
      const [lesson] = await createLessons(app, course.id, 2);
      const s1 = await createStudent(app);
      const s2 = await createStudent(app);
      await enrollViaApi(app, s1, course.id);
      await untilClockPasses();
      await enrollViaApi(app, s2, course.id);
      await completeLessonViaApi(app, s1, lesson!.id);

      const res = await call(app, 'GET', `/api/courses/${course.id}/students/`, { as: course.owner });
      assert.equal(res.status, 200);
      assert.equal(res.body.count, 2);
      assert.deepEqual(
        res.body.results.map((r: { student: { id: number } }) => r.student.id),
        [s2.user.id, s1.user.id],
      );
      const row = res.body.results[1];
      assert.deepEqual(Object.keys(row).sort(), ['completed_at', 'enrolled_on', 'progress', 'student']);
      assert.deepEqual(Object.keys(row.student).sort(), ['bio', 'first_name', 'id', 'last_name', 'profile_image', 'username']);
      assert.equal(row.student.username, s1.user.username);
      assert.equal(row.progress, 50);

      const byAdmin = await call(app, 'GET', `/api/courses/${course.id}/students/?page_size=1`, { as: await createAdmin(app) });
      assert.equal(byAdmin.status, 200);
      assert.equal(byAdmin.body.results.length, 1);
      assert.ok(byAdmin.body.next);
    });

    it('answers 403 to other users, 401 anonymous, 404 for an unknown course or someone else\u2019s draft', async () => {
      const course = await createCourse(app);
      const enrolled = await createStudent(app);
      await enrollViaApi(app, enrolled, course.id);
      const url = `/api/courses/${course.id}/students/`;
      assert.equal((await call(app, 'GET', url, { as: await createInstructor(app) })).status, 403);
      assert.equal((await call(app, 'GET', url, { as: enrolled })).status, 403);
      assert.equal((await call(app, 'GET', url)).status, 401);
      assert.equal((await call(app, 'GET', '/api/courses/999999/students/', { as: course.owner })).status, 404);

      const draft = await createCourse(app, { is_published: false });
      assert.equal((await call(app, 'GET', `/api/courses/${draft.id}/students/`, { as: await createInstructor(app) })).status, 404);
      assert.equal((await call(app, 'GET', `/api/courses/${draft.id}/students/`, { as: draft.owner })).status, 200);
    });
  });
});
