import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { PASSWORD, createAdmin, createInstructor, createStudent, createCourse, createLessons } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { completeLessonViaApi, courseCounters, enrollViaApi } from '../helpers/actions.js';

async function login(app: TestApp, username: string, password = PASSWORD) {
  return call(app, 'POST', '/api/login/', { body: { username, password } });
}

describe('personal data', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  describe('GET /api/profile/export/', () => {
    it('returns one document: profile, enrollments with progress and completions, quiz_attempts, reviews, certificates, sessions without tokens', async () => {
      const student = await createStudent(app);
      const course = await createCourse(app);
      const [first] = await createLessons(app, course.id, 2);
      await enrollViaApi(app, student, course.id);
      await completeLessonViaApi(app, student, first?.id ?? 0);
      assert.equal(
        (await call(app, 'POST', '/api/reviews/', { as: student, body: { course: course.id, rating: 4, comment: 'Good' } })).status,
        201,
      );
      const logged = await login(app, student.user.username);
      assert.equal(logged.status, 200);

      const res = await call(app, 'GET', '/api/profile/export/', { as: student });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), ['certificates', 'enrollments', 'profile', 'quiz_attempts', 'reviews', 'sessions']);
      assert.equal(res.body.profile.id, student.user.id);
      assert.equal(res.body.profile.email, student.user.email);
      const [enrollment] = res.body.enrollments;
      assert.equal(enrollment.course.id, course.id);
      assert.equal(enrollment.progress, 50);
      assert.deepEqual(
        enrollment.lesson_completions.map((c: { lesson: { id: number } }) => c.lesson.id),
        [first?.id],
      );
      assert.equal(res.body.reviews[0].rating, 4);
      assert.deepEqual(res.body.quiz_attempts, []);
      assert.deepEqual(res.body.certificates, []);
      assert.equal(res.body.sessions.length, 2);
      assert.ok(
        res.body.sessions.some((s: { ip: string }) => s.ip === '127.0.0.1'),
        'the login address',
      );
      for (const session of res.body.sessions)
        assert.deepEqual(Object.keys(session).sort(), ['created_at', 'expires_at', 'ip', 'revoked_at']);
      const text = JSON.stringify(res.body);
      for (const secret of [student.access, student.refresh, logged.body.access, logged.body.refresh, 'password'])
        assert.equal(text.includes(secret), false);
    });

    it('answers 401 to anonymous callers', async () => {
      assert.equal((await call(app, 'GET', '/api/profile/export/')).status, 401);
    });
  });

  describe('DELETE /api/profile/', () => {
    async function erase(user: TestUser, password: string | null = PASSWORD) {
      return app.inject({ method: 'DELETE', url: '/api/profile/', headers: user.headers, payload: password === null ? {} : { password } });
    }

    it('wrong password: 400 on password, nothing changes; missing password: 400', async () => {
      const student = await createStudent(app);
      const res = await erase(student, 'not-my-password');
      assert.equal(res.statusCode, 400);
      assert.ok('password' in JSON.parse(res.body));
      assert.equal(res.headers['x-error-code'], 'wrong_password');
      assert.equal((await erase(student, null)).statusCode, 400);
      assert.equal((await call(app, 'GET', '/api/profile/', { as: student })).body.username, student.user.username);
    });

    it('an instructor who still owns courses: 409', async () => {
      const instructor = await createInstructor(app);
      await createCourse(app, { instructor });
      const res = await erase(instructor);
      assert.equal(res.statusCode, 409);
      assert.equal(res.headers['x-error-code'], 'owns_courses');
      assert.equal((await call(app, 'GET', '/api/profile/', { as: instructor })).status, 200);
    });

    it('erases: sessions die, the account is anonymised and can never log in, reviews and aggregates stay, enrollments go (counts exact), name and email are free again', async () => {
      const student = await createStudent(app);
      const { username, email } = student.user;
      const second = await login(app, username);
      const course = await createCourse(app);
      const other = await createStudent(app);
      await enrollViaApi(app, student, course.id);
      await enrollViaApi(app, other, course.id);
      await call(app, 'POST', '/api/reviews/', { as: student, body: { course: course.id, rating: 2, comment: 'Meh' } });
      await call(app, 'POST', '/api/reviews/', { as: other, body: { course: course.id, rating: 4, comment: 'Nice' } });
      const before = await courseCounters(app, course.id);
      assert.equal(before.students_count, 2);

      const res = await erase(student);
      assert.equal(res.statusCode, 204);
      assert.equal(res.body, '');
      // Every session is dead.
      assert.equal((await call(app, 'GET', '/api/profile/', { as: student })).status, 401);
      assert.equal(
        (await app.inject({ method: 'GET', url: '/api/profile/', headers: { authorization: `Bearer ${second.body.access}` } })).statusCode,
        401,
      );
      assert.equal((await call(app, 'POST', '/api/token/refresh/', { body: { refresh: student.refresh } })).status, 401);
      // Never logs in again, by name, email or the new name.
      assert.equal((await login(app, username)).status, 401);
      assert.equal((await login(app, email)).status, 401);
      assert.equal((await login(app, `deleted-${student.user.id}`)).status, 401);
      assert.equal((await login(app, `deleted-${student.user.id}@invalid`)).status, 401);
      // Anonymised.
      const row = await app.database.db.selectFrom('users').selectAll().where('id', '=', student.user.id).executeTakeFirstOrThrow();
      assert.equal(row.username, `deleted-${student.user.id}`);
      assert.equal(row.email, `deleted-${student.user.id}@invalid`);
      assert.deepEqual([row.first_name, row.last_name, row.bio, row.profile_image], ['', '', '', null]);
      // Reviews stay under the anonymised user, aggregates unchanged; the enrollment went through the enrollments path.
      const after = await courseCounters(app, course.id);
      assert.equal(after.students_count, 1);
      assert.equal(after.reviews_count, before.reviews_count);
      assert.equal(after.average_rating, before.average_rating);
      const reviews = await call(app, 'GET', `/api/reviews/?course=${course.id}`);
      const kept = reviews.body.results.find((r: { rating: number }) => r.rating === 2);
      assert.equal(kept.student.username, `deleted-${student.user.id}`);
      assert.equal(
        await app.database.db.selectFrom('enrollments').select('id').where('student_id', '=', student.user.id).executeTakeFirst(),
        undefined,
      );
      const deleted = await app.database.db
        .selectFrom('events')
        .select('type')
        .where('course_id', '=', course.id)
        .where('type', '=', 'enrollment.deleted')
        .execute();
      assert.equal(deleted.length, 1);
      // The name and email are free again.
      const again = await call(app, 'POST', '/api/register/', { body: { username, email, password: 'a-brand-new-passphrase' } });
      assert.equal(again.status, 201, JSON.stringify(again.body));
      // Audited.
      const admin = await createAdmin(app);
      const audit = await call(app, 'GET', `/api/admin/audit/?action=user.erased&target_id=${student.user.id}`, { as: admin });
      assert.equal(audit.body.count, 1);
      assert.equal(JSON.stringify(audit.body.results[0].data).includes('@'), false);
    });

    it('an instructor without courses may erase; their webhooks go with the account', async () => {
      const instructor = await createInstructor(app);
      const hook = await call(app, 'POST', '/api/webhooks/', { as: instructor, body: { url: 'http://93.184.216.34/hook', events: ['*'] } });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      assert.equal((await erase(instructor)).statusCode, 204);
      assert.equal(
        await app.database.db.selectFrom('webhook_endpoints').select('id').where('owner_id', '=', instructor.user.id).executeTakeFirst(),
        undefined,
      );
    });
  });
});
