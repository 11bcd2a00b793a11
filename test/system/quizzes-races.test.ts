import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { baseOf, send, tally } from '../helpers/burst.js';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createStudent, createCourse, createLesson, createLessons } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { completeLessonViaApi, enrollViaApi } from '../helpers/actions.js';

/**
 * Quiz attempts and certificate issue under concurrency, over a real listening server: every
 * request of a burst is in flight at once, so on PostgreSQL they race on separate connections.
 */
describe(`quiz and certificate races (${onPostgres ? 'postgres' : 'sqlite'})`, () => {
  let app: TestApp;
  let base: string;
  before(async () => {
    app = await buildTestApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = baseOf(app);
  });
  after(() => app.close());

  const trueFalse = { kind: 'true_false', prompt: 'p', choices: [{ text: 'T', correct: true }, { text: 'F' }] };

  it('ten attempts at once with max_attempts 3: exactly three 201, seven 409', async (t) => {
    const course = await createCourse(app);
    const lesson = await createLesson(app, course.id);
    const put = await call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, {
      as: course.owner,
      body: { max_attempts: 3, questions: [trueFalse] },
    });
    const question = put.body.questions[0];
    const student = await createStudent(app);
    await enrollViaApi(app, student, course.id);
    const answers = [{ question: question.id, choices: [question.choices[1].id] }];
    const results = await Promise.all(
      Array.from({ length: 10 }, () => send(base, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, student, { answers })),
    );
    assert.deepEqual(
      tally(
        t,
        'attempts',
        results.map((r) => r.status),
      ),
      { 201: 3, 409: 7 },
    );
    const rows = await app.database.db
      .selectFrom('quiz_attempts')
      .select('attempt_number')
      .where('student_id', '=', student.user.id)
      .execute();
    assert.deepEqual(rows.map((r) => r.attempt_number).sort(), [1, 2, 3]);
  });

  it('passing attempts at once from several students and one student: one completion each, one certificate each', async (t) => {
    const course = await createCourse(app);
    const [plain, lesson] = await createLessons(app, course.id, 2);
    const put = await call(app, 'PUT', `/api/lessons/${lesson!.id}/quiz/`, { as: course.owner, body: { questions: [trueFalse] } });
    const question = put.body.questions[0];
    const students = await Promise.all(Array.from({ length: 5 }, () => createStudent(app)));
    for (const s of students) {
      await enrollViaApi(app, s, course.id);
      await completeLessonViaApi(app, s, plain!.id);
    }
    const answers = [{ question: question.id, choices: [question.choices[0].id] }];
    const results = await Promise.all(
      students.flatMap((s) =>
        Array.from({ length: 4 }, () => send(base, 'POST', `/api/lessons/${lesson!.id}/quiz/attempts/`, s, { answers })),
      ),
    );
    assert.deepEqual(
      tally(
        t,
        'passing attempts',
        results.map((r) => r.status),
      ),
      { 201: 20 },
    );
    for (const s of students) {
      const progress = await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: s });
      assert.equal(progress.body.progress, 100);
      assert.equal((await call(app, 'GET', '/api/my-certificates/', { as: s })).body.count, 1);
    }
    const events = await app.database.db.selectFrom('events').select('type').where('course_id', '=', course.id).execute();
    const count = (type: string) => events.filter((e) => e.type === type).length;
    assert.equal(count('certificate.issued'), 5);
    assert.equal(count('course.completed'), 5);
    assert.equal(count('quiz.attempted'), 20);
  });

  it('completing the last lesson while another lesson is removed: one certificate per student', async (t) => {
    const course = await createCourse(app);
    const lessons = await createLessons(app, course.id, 3);
    const students = await Promise.all(Array.from({ length: 8 }, () => createStudent(app)));
    for (const s of students) {
      await enrollViaApi(app, s, course.id);
      await completeLessonViaApi(app, s, lessons[0]!.id);
    }
    // Either the completion or the removal completes each enrollment, whichever commits second.
    const results = await Promise.all([
      ...students.map((s) => send(base, 'POST', `/api/lessons/${lessons[1]!.id}/complete/`, s)),
      send(base, 'DELETE', `/api/lessons/${lessons[2]!.id}/`, course.owner),
    ]);
    const counts = tally(
      t,
      'completions and a removal',
      results.map((r) => r.status),
    );
    assert.ok(
      results.every((r) => r.status < 500),
      JSON.stringify(counts),
    );
    const rows = await app.database.db.selectFrom('certificates').select(['student_id']).where('course_id', '=', course.id).execute();
    assert.deepEqual(
      rows.map((r) => r.student_id).sort((a, b) => a - b),
      students.map((s) => s.user.id).sort((a, b) => a - b),
    );
  });
});
