import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import type { TestUser } from '../helpers/factories.js';
import { createStudent, createInstructor, createAdmin, createCourse } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { untilClockPasses } from '../helpers/wait.js';
import { enrollViaApi, courseCounters, reviewViaApi } from '../helpers/actions.js';

async function enrolledStudent(app: FastifyInstance, courseId: number): Promise<TestUser> {
  const student = await createStudent(app);
  assert.equal((await enrollViaApi(app, student, courseId)).status, 201);
  return student;
}

describe('reviews', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  describe('POST /api/reviews/', () => {
    it('lets an enrolled student review (201) and updates the course aggregates at once', async () => {
      const course = await createCourse(app);
      const student = await enrolledStudent(app, course.id);
      const res = await reviewViaApi(app, student, { course: course.id, rating: 4, comment: 'Clear and practical.' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      // The author also sees is_hidden (review moderation); everyone sees the reply.
      assert.deepEqual(Object.keys(res.body).sort(), [
        'comment',
        'course',
        'created_at',
        'id',
        'is_hidden',
        'rating',
        'reply',
        'student',
        'updated_at',
      ]);
      assert.equal(res.body.course, course.id);
      assert.equal(res.body.rating, 4);
      assert.equal(res.body.comment, 'Clear and practical.');
      assert.deepEqual(Object.keys(res.body.student).sort(), ['bio', 'first_name', 'id', 'last_name', 'profile_image', 'username']);
      assert.equal(res.body.student.id, student.user.id);
      assert.deepEqual(await courseCounters(app, course.id), {
        students_count: 1,
        reviews_count: 1,
        rating_sum: 4,
        average_rating: 4,
        lessons_count: 0,
      });

      await reviewViaApi(app, await enrolledStudent(app, course.id), { course: course.id, rating: 5 });
      await reviewViaApi(app, await enrolledStudent(app, course.id), { course: course.id, rating: 4 });
      const counters = await courseCounters(app, course.id);
      assert.equal(counters.reviews_count, 3);
      assert.equal(counters.rating_sum, 13);
      assert.equal(counters.average_rating, 4.33);
      const item = (await call(app, 'GET', '/api/my-courses/', { as: student })).body.results[0].course;
      assert.equal(item.average_rating, 4.33);
      assert.equal(item.reviews_count, 3);
    });

    it('answers 403 to anyone not enrolled (instructors, the owner and admins included), 401 anonymous', async () => {
      const course = await createCourse(app);
      for (const user of [await createStudent(app), await createInstructor(app), course.owner, await createAdmin(app)]) {
        const res = await reviewViaApi(app, user, { course: course.id, rating: 5 });
        assert.equal(res.status, 403, user.user.role);
        assert.equal(typeof res.body.detail, 'string');
      }
      assert.equal((await reviewViaApi(app, undefined, { course: course.id, rating: 5 })).status, 401);
      assert.equal((await courseCounters(app, course.id)).reviews_count, 0);
    });

    it('answers 409 to a second review of the same course', async () => {
      const course = await createCourse(app);
      const student = await enrolledStudent(app, course.id);
      assert.equal((await reviewViaApi(app, student, { course: course.id, rating: 2 })).status, 201);
      const again = await reviewViaApi(app, student, { course: course.id, rating: 5 });
      assert.equal(again.status, 409);
      assert.equal(typeof again.body.detail, 'string');
      assert.deepEqual(
        { ...(await courseCounters(app, course.id)), students_count: 0, lessons_count: 0 },
        { students_count: 0, reviews_count: 1, rating_sum: 2, average_rating: 2, lessons_count: 0 },
      );
    });

    it('validates rating (integer 1–5), comment (≤ 5000) and course', async () => {
      const course = await createCourse(app);
      const student = await enrolledStudent(app, course.id);
      for (const rating of [0, 6, 4.5, 'x', null]) {
        const res = await reviewViaApi(app, student, { course: course.id, rating });
        assert.equal(res.status, 400, String(rating));
        assert.ok(Array.isArray(res.body.rating), JSON.stringify(res.body));
      }
      const missing = await reviewViaApi(app, student, { course: course.id });
      assert.deepEqual(missing.body, { rating: ['This field is required.'] });
      const long = await reviewViaApi(app, student, { course: course.id, rating: 3, comment: 'x'.repeat(5001) });
      assert.equal(long.status, 400);
      assert.ok(Array.isArray(long.body.comment));
      assert.equal((await reviewViaApi(app, student, { course: course.id, rating: 3, comment: 'x'.repeat(5000) })).status, 201);

      const unknown = await reviewViaApi(app, student, { course: 999_999, rating: 3 });
      assert.equal(unknown.status, 400);
      assert.ok(Array.isArray(unknown.body.course));
      assert.ok(Array.isArray((await reviewViaApi(app, student, { rating: 3 })).body.course));
    });

    it("treats someone else's draft as unknown (400 on course), so a draft leaks nothing", async () => {
      const course = await createCourse(app);
      const student = await enrolledStudent(app, course.id);
      await app.database.db.updateTable('courses').set({ is_published: false }).where('id', '=', course.id).execute();
      const res = await reviewViaApi(app, student, { course: course.id, rating: 3 });
      assert.equal(res.status, 400);
      assert.ok(Array.isArray(res.body.course));
    });
  });

  describe('reading', () => {
    it('lists reviews of published courses to anyone, newest first, with filters and ordering', async () => {
      const course = await createCourse(app);
      const other = await createCourse(app);
      const draft = await createCourse(app);
      const students = [
        await enrolledStudent(app, course.id),
        await enrolledStudent(app, course.id),
        await enrolledStudent(app, course.id),
      ];
      const ids: number[] = [];
      for (const [i, rating] of [3, 5, 1].entries()) {
        ids.push((await reviewViaApi(app, students[i], { course: course.id, rating })).body.id);
        await untilClockPasses(); // distinct created_at times: equal ones fall back to ascending id
      }
      const otherReview = (await reviewViaApi(app, await enrolledStudent(app, other.id), { course: other.id, rating: 4 })).body.id;
      const draftAuthor = await enrolledStudent(app, draft.id);
      const hidden = (await reviewViaApi(app, draftAuthor, { course: draft.id, rating: 2 })).body.id;
      await app.database.db.updateTable('courses').set({ is_published: false }).where('id', '=', draft.id).execute();

      const ofCourse = await call(app, 'GET', `/api/reviews/?course=${course.id}`);
      assert.equal(ofCourse.status, 200);
      assert.equal(ofCourse.body.count, 3);
      assert.deepEqual(
        ofCourse.body.results.map((r: { id: number }) => r.id),
        [ids[2], ids[1], ids[0]],
      );

      const all = await call(app, 'GET', '/api/reviews/?page_size=100');
      const allIds = all.body.results.map((r: { id: number }) => r.id);
      assert.ok(allIds.includes(otherReview));
      assert.ok(!allIds.includes(hidden));

      const byRating = await call(app, 'GET', `/api/reviews/?course=${course.id}&ordering=-rating`);
      assert.deepEqual(
        byRating.body.results.map((r: { rating: number }) => r.rating),
        [5, 3, 1],
      );
      const oldest = await call(app, 'GET', `/api/reviews/?course=${course.id}&ordering=created_at`);
      assert.deepEqual(
        oldest.body.results.map((r: { id: number }) => r.id),
        ids,
      );
      const five = await call(app, 'GET', `/api/reviews/?course=${course.id}&rating=5`);
      assert.deepEqual(
        five.body.results.map((r: { id: number }) => r.id),
        [ids[1]],
      );
      const byStudent = await call(app, 'GET', `/api/reviews/?student=${students[0]!.user.id}`);
      assert.deepEqual(
        byStudent.body.results.map((r: { id: number }) => r.id),
        [ids[0]],
      );
      const page = await call(app, 'GET', `/api/reviews/?course=${course.id}&page_size=2`);
      assert.equal(page.body.results.length, 2);
      assert.ok(page.body.next);

      assert.equal((await call(app, 'GET', '/api/reviews/?ordering=student')).status, 400);
      assert.ok(Array.isArray((await call(app, 'GET', '/api/reviews/?ordering=student')).body.ordering));
      assert.ok(Array.isArray((await call(app, 'GET', '/api/reviews/?rating=abc')).body.rating));
      assert.ok(Array.isArray((await call(app, 'GET', '/api/reviews/?course=abc')).body.course));
    });

    it("shows a draft's reviews only to its owner and admins, in the list and in detail", async () => {
      const draft = await createCourse(app);
      const author = await enrolledStudent(app, draft.id);
      const id = (await reviewViaApi(app, author, { course: draft.id, rating: 2 })).body.id;
      await app.database.db.updateTable('courses').set({ is_published: false }).where('id', '=', draft.id).execute();
      const url = `/api/reviews/?course=${draft.id}`;

      assert.equal((await call(app, 'GET', url)).body.count, 0);
      assert.equal((await call(app, 'GET', url, { as: author })).body.count, 0);
      assert.equal((await call(app, 'GET', url, { as: await createInstructor(app) })).body.count, 0);
      assert.equal((await call(app, 'GET', url, { as: draft.owner })).body.count, 1);
      assert.equal((await call(app, 'GET', url, { as: await createAdmin(app) })).body.count, 1);

      assert.equal((await call(app, 'GET', `/api/reviews/${id}/`)).status, 404);
      assert.equal((await call(app, 'GET', `/api/reviews/${id}/`, { as: author })).status, 404);
      assert.equal((await call(app, 'GET', `/api/reviews/${id}/`, { as: draft.owner })).status, 200);
    });

    it('GET /api/reviews/{id}/ serves anyone; unknown ids 404', async () => {
      const course = await createCourse(app);
      const created = await reviewViaApi(app, await enrolledStudent(app, course.id), { course: course.id, rating: 5, comment: 'Great' });
      const res = await call(app, 'GET', `/api/reviews/${created.body.id}/`);
      assert.equal(res.status, 200);
      // Only the author (and admins) see is_hidden.
      const { is_hidden: _hidden, ...publicView } = created.body;
      assert.deepEqual(res.body, publicView);
      assert.deepEqual((await call(app, 'GET', '/api/reviews/999999/')).body, { detail: 'Not found.' });
    });
  });

  describe('changing', () => {
    it('lets the author PATCH and PUT (aggregates follow the rating); others 403, the course cannot change', async () => {
      const course = await createCourse(app);
      const author = await enrolledStudent(app, course.id);
      await reviewViaApi(app, await enrolledStudent(app, course.id), { course: course.id, rating: 5 });
      const created = await reviewViaApi(app, author, { course: course.id, rating: 5, comment: 'Great' });
      const url = `/api/reviews/${created.body.id}/`;

      const patched = await call(app, 'PATCH', url, { as: author, body: { rating: 2 } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.rating, 2);
      assert.equal(patched.body.comment, 'Great');
      assert.ok(patched.body.updated_at >= created.body.updated_at);
      assert.deepEqual(
        (({ reviews_count, rating_sum, average_rating }) => ({ reviews_count, rating_sum, average_rating }))(
          await courseCounters(app, course.id),
        ),
        { reviews_count: 2, rating_sum: 7, average_rating: 3.5 },
      );

      const put = await call(app, 'PUT', url, { as: author, body: { course: course.id, rating: 4, comment: 'Better on reread' } });
      assert.equal(put.status, 200);
      assert.equal(put.body.comment, 'Better on reread');
      assert.equal((await courseCounters(app, course.id)).average_rating, 4.5);

      assert.ok(Array.isArray((await call(app, 'PUT', url, { as: author, body: { comment: 'no rating' } })).body.rating));
      const moved = await call(app, 'PATCH', url, { as: author, body: { course: (await createCourse(app)).id } });
      assert.equal(moved.status, 400);
      assert.ok(Array.isArray(moved.body.course));
      assert.equal((await call(app, 'PATCH', url, { as: author, body: { rating: 9 } })).status, 400);

      assert.equal((await call(app, 'PATCH', url, { as: await createStudent(app), body: { rating: 1 } })).status, 403);
      assert.equal((await call(app, 'PATCH', url, { as: await createAdmin(app), body: { rating: 1 } })).status, 403);
      assert.equal((await call(app, 'PATCH', url, { as: course.owner, body: { rating: 1 } })).status, 403);
      assert.equal((await call(app, 'PATCH', url, { body: { rating: 1 } })).status, 401);
      assert.equal((await call(app, 'PATCH', '/api/reviews/999999/', { as: author, body: { rating: 1 } })).status, 404);
      assert.equal((await courseCounters(app, course.id)).average_rating, 4.5);
    });

    it('lets the author or an admin delete (204), recounting; others 403', async () => {
      const course = await createCourse(app);
      const a = await enrolledStudent(app, course.id);
      const b = await enrolledStudent(app, course.id);
      const ra = (await reviewViaApi(app, a, { course: course.id, rating: 1 })).body.id;
      const rb = (await reviewViaApi(app, b, { course: course.id, rating: 4 })).body.id;

      assert.equal((await call(app, 'DELETE', `/api/reviews/${ra}/`, { as: b })).status, 403);
      assert.equal((await call(app, 'DELETE', `/api/reviews/${ra}/`, { as: course.owner })).status, 403);
      assert.equal((await call(app, 'DELETE', `/api/reviews/${ra}/`)).status, 401);

      const own = await call(app, 'DELETE', `/api/reviews/${ra}/`, { as: a });
      assert.equal(own.status, 204);
      assert.equal(own.body, undefined);
      assert.equal((await courseCounters(app, course.id)).average_rating, 4);
      assert.equal((await call(app, 'DELETE', `/api/reviews/${ra}/`, { as: a })).status, 404);

      assert.equal((await call(app, 'DELETE', `/api/reviews/${rb}/`, { as: await createAdmin(app) })).status, 204);
      const counters = await courseCounters(app, course.id);
      assert.deepEqual([counters.reviews_count, counters.rating_sum, counters.average_rating], [0, 0, null]);

      // The author may review again once the old review is gone.
      assert.equal((await reviewViaApi(app, a, { course: course.id, rating: 3 })).status, 201);
    });
  });
});
