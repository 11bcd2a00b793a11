import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createStudent } from '../helpers/factories.js';
import { PASSWORD, createCourse, createLesson } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { enrollViaApi } from '../helpers/actions.js';

/** The export and the erasure reach the quiz attempts and certificates of the account. */
describe('personal data: quiz attempts and certificates', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  it('exports the attempts (with answers) and the certificate, and erasure removes both', async () => {
    const course = await createCourse(app);
    const lesson = await createLesson(app, course.id);
    const quiz = await call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, {
      as: course.owner,
      body: {
        pass_mark: 50,
        questions: [{ kind: 'short_text', prompt: 'Capital of France?', accepted_answers: ['Paris'] }],
      },
    });
    assert.equal(quiz.status, 200);
    const student = await createStudent(app);
    await enrollViaApi(app, student, course.id);
    const questionId = quiz.body.questions[0].id as number;
    const failed = await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, {
      as: student,
      body: {
        answers: [{ question: questionId, text: 'Lyon' }],
      },
    });
    assert.equal(failed.status, 201);
    const passed = await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, {
      as: student,
      body: {
        answers: [{ question: questionId, text: 'paris' }],
      },
    });
    assert.equal(passed.body.passed, true);

    const exported = await call(app, 'GET', '/api/profile/export/', { as: student });
    assert.equal(exported.status, 200);
    assert.equal(exported.body.quiz_attempts.length, 2);
    assert.deepEqual(exported.body.quiz_attempts.map((a: { passed: boolean }) => a.passed).sort(), [false, true]);
    assert.ok(JSON.stringify(exported.body.quiz_attempts).includes('Lyon'));
    assert.equal(exported.body.certificates.length, 1);
    const code = exported.body.certificates[0].code as string;
    assert.equal((await call(app, 'GET', `/api/certificates/${code}/`)).status, 200);

    const erased = await app.inject({ method: 'DELETE', url: '/api/profile/', headers: student.headers, payload: { password: PASSWORD } });
    assert.equal(erased.statusCode, 204, erased.body);
    assert.equal((await call(app, 'GET', `/api/certificates/${code}/`)).status, 404);
    const left = await app.database.db.selectFrom('quiz_attempts').select('id').where('student_id', '=', student.user.id).execute();
    assert.equal(left.length, 0);
  });
});
