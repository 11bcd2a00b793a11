import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createAdmin, createInstructor, createStudent, createCourse, createLesson, createLessons } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { completeLessonViaApi, enrollViaApi } from '../helpers/actions.js';

/** Text that must never reach a student before the rules allow. */
const SECRET_ANSWER = 'Zanzibar-accepted-7731';
const SECRET_EXPLANATION = 'Because-explained-4412';
const SECRET_CHOICE_EXPLANATION = 'Choice-explained-9190';

/** A quiz of every kind: question 0 single (choice B), 1 multiple (A and C), 2 true_false (True), 3 short_text. */
const quizDocument = (extra: Record<string, unknown> = {}) => ({
  pass_mark: 75,
  questions: [
    {
      kind: 'single',
      prompt: 'Pick B',
      choices: [{ text: 'A' }, { text: 'B', correct: true }, { text: 'C' }],
      explanation: SECRET_CHOICE_EXPLANATION,
    },
    {
      kind: 'multiple',
      prompt: 'Pick A and C',
      points: 2,
      choices: [{ text: 'A', correct: true }, { text: 'B' }, { text: 'C', correct: true }],
    },
    {
      kind: 'true_false',
      prompt: 'True?',
      choices: [
        { text: 'True', correct: true },
        { text: 'False', correct: false },
      ],
    },
    { kind: 'short_text', prompt: 'Where?', accepted_answers: [SECRET_ANSWER, 'Other-Place'], explanation: SECRET_EXPLANATION },
  ],
  ...extra,
});

type Quiz = {
  id: number;
  questions: { id: number; kind: string; choices: { id: number; text: string; correct?: boolean }[] }[];
};

/** Answers to the author view of quizDocument: all right, or with `wrong` indexes answered wrongly. */
function answersFor(quiz: Quiz, wrong: number[] = []) {
  return quiz.questions.map((q, index) => {
    if (q.kind === 'short_text') return { question: q.id, text: wrong.includes(index) ? 'nope' : ` ${SECRET_ANSWER.toUpperCase()} ` };
    const pick = q.choices.filter((c) => (wrong.includes(index) ? !c.correct : c.correct)).map((c) => c.id);
    return { question: q.id, choices: pick };
  });
}

describe(`quizzes (${onPostgres ? 'postgres' : 'sqlite'})`, () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  /** A published course with two lessons, the first carrying the quiz; an enrolled student. */
  async function setup(extra: Record<string, unknown> = {}) {
    const course = await createCourse(app);
    const [quizLesson, plain] = await createLessons(app, course.id, 2);
    const student = await createStudent(app);
    assert.equal((await enrollViaApi(app, student, course.id)).status, 201);
    const put = await call(app, 'PUT', `/api/lessons/${quizLesson!.id}/quiz/`, { as: course.owner, body: quizDocument(extra) });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    return { course, lesson: quizLesson!, plain: plain!, student, quiz: put.body as Quiz };
  }

  describe('definition', () => {
    it('PUT creates the quiz with defaults and answers the author view; GET gives it to the owner and admins', async () => {
      const course = await createCourse(app);
      const lesson = await createLesson(app, course.id);
      const res = await call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, {
        as: course.owner,
        body: {
          questions: [{ kind: 'true_false', prompt: 'Sky is blue', choices: [{ text: 'True', correct: true }, { text: 'False' }] }],
        },
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.lesson, lesson.id);
      assert.equal(res.body.pass_mark, 70);
      assert.equal(res.body.max_attempts, null);
      assert.equal(res.body.reveal_answers, 'after_pass');
      const [q] = res.body.questions;
      assert.equal(q.order, 1);
      assert.equal(q.points, 1);
      assert.deepEqual(
        q.choices.map((c: { text: string; correct: boolean }) => [c.text, c.correct]),
        [
          ['True', true],
          ['False', false],
        ],
      );
      assert.deepEqual(q.accepted_answers, []);
      assert.equal(q.explanation, '');
      for (const who of [course.owner, await createAdmin(app)]) {
        const got = await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/`, { as: who });
        assert.equal(got.status, 200);
        assert.deepEqual(got.body, res.body);
      }
    });

    it('PUT replaces the whole quiz atomically; attempts made keep their scores', async () => {
      const { lesson, student, quiz, course } = await setup();
      const attempt = await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, {
        as: student,
        body: { answers: answersFor(quiz, [1]) },
      });
      assert.equal(attempt.status, 201);
      const replaced = await call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, {
        as: course.owner,
        body: {
          reveal_answers: 'always',
          questions: [{ kind: 'short_text', prompt: 'New', accepted_answers: ['x'] }],
        },
      });
      assert.equal(replaced.status, 200);
      assert.equal(replaced.body.id, quiz.id);
      assert.equal(replaced.body.pass_mark, 70, 'the whole document: an omitted setting is its default again');
      assert.equal(replaced.body.questions.length, 1);
      assert.ok(!quiz.questions.some((q) => q.id === replaced.body.questions[0].id));
      const list = await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: student });
      assert.equal(list.body.count, 1);
      assert.equal(list.body.results[0].score, attempt.body.score);
      // A failing replacement changes nothing.
      const bad = await call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, {
        as: course.owner,
        body: {
          questions: [
            { kind: 'single', prompt: 'ok', choices: [{ text: 'a', correct: true }, { text: 'b' }] },
            { kind: 'single', prompt: 'bad', choices: [{ text: 'a' }] },
          ],
        },
      });
      assert.equal(bad.status, 400);
      assert.deepEqual((await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/`, { as: course.owner })).body, replaced.body);
    });

    it('validation per question: 400 keyed by the question index, for every rule of each kind', async () => {
      const course = await createCourse(app);
      const lesson = await createLesson(app, course.id);
      const put = (body: unknown) =>
        call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, { as: course.owner, body: body as Record<string, unknown> });
      const ok = { kind: 'single', prompt: 'fine', choices: [{ text: 'a', correct: true }, { text: 'b' }] };
      const cases: [string, unknown, string][] = [
        [
          'single with two correct',
          {
            kind: 'single',
            prompt: 'p',
            choices: [
              { text: 'a', correct: true },
              { text: 'b', correct: true },
            ],
          },
          'choices',
        ],
        ['single with none correct', { kind: 'single', prompt: 'p', choices: [{ text: 'a' }, { text: 'b' }] }, 'choices'],
        ['single with one choice', { kind: 'single', prompt: 'p', choices: [{ text: 'a', correct: true }] }, 'choices'],
        ['multiple with none correct', { kind: 'multiple', prompt: 'p', choices: [{ text: 'a' }, { text: 'b' }] }, 'choices'],
        [
          'true_false with three choices',
          { kind: 'true_false', prompt: 'p', choices: [{ text: 'a', correct: true }, { text: 'b' }, { text: 'c' }] },
          'choices',
        ],
        [
          'true_false with both correct',
          {
            kind: 'true_false',
            prompt: 'p',
            choices: [
              { text: 'a', correct: true },
              { text: 'b', correct: true },
            ],
          },
          'choices',
        ],
        ['short_text without accepted answers', { kind: 'short_text', prompt: 'p' }, 'accepted_answers'],
        [
          'short_text with choices',
          { kind: 'short_text', prompt: 'p', accepted_answers: ['a'], choices: [{ text: 'a', correct: true }] },
          'choices',
        ],
        [
          'short_text with 21 accepted answers',
          { kind: 'short_text', prompt: 'p', accepted_answers: Array.from({ length: 21 }, (_, i) => `a${i}`) },
          'accepted_answers',
        ],
        ['a choice question with accepted answers', { ...ok, accepted_answers: ['x'] }, 'accepted_answers'],
        ['an unknown kind', { ...ok, kind: 'essay' }, 'kind'],
        ['zero points', { ...ok, points: 0 }, 'points'],
        ['a blank prompt', { ...ok, prompt: '   ' }, 'prompt'],
        ['a missing prompt', { kind: 'single', choices: ok.choices }, 'prompt'],
      ];
      // A NUL anywhere in a body is refused by the one shared check, on the top-level field.
      for (const question of [
        { ...ok, prompt: 'a\u0000b' },
        { ...ok, choices: [{ text: 'a\u0000', correct: true }, { text: 'b' }] },
        { kind: 'short_text', prompt: 'p', accepted_answers: ['a\u0000'] },
      ]) {
        const res = await put({ questions: [ok, question] });
        assert.equal(res.status, 400);
        assert.equal(res.headers['x-error-code'], 'null_characters_not_allowed');
        assert.deepEqual(Object.keys(res.body), ['questions']);
      }
      for (const [label, question, field] of cases) {
        const res = await put({ questions: [ok, ok, question] });
        assert.equal(res.status, 400, label);
        assert.equal(res.headers['x-error-code'] ?? 'invalid', 'invalid', label);
        assert.deepEqual(Object.keys(res.body), ['questions'], label);
        assert.deepEqual(Object.keys(res.body.questions), ['2'], `${label}: ${JSON.stringify(res.body)}`);
        assert.ok(Array.isArray(res.body.questions['2'][field]), `${label}: ${JSON.stringify(res.body)}`);
      }
      for (const [label, body, field] of [
        ['no questions', { questions: [] }, 'questions'],
        ['questions missing', {}, 'questions'],
        ['pass_mark over 100', { pass_mark: 101, questions: [ok] }, 'pass_mark'],
        ['max_attempts 0', { max_attempts: 0, questions: [ok] }, 'max_attempts'],
        ['unknown reveal rule', { reveal_answers: 'sometimes', questions: [ok] }, 'reveal_answers'],
      ] as const) {
        const res = await put(body);
        assert.equal(res.status, 400, label);
        assert.ok(Array.isArray(res.body[field]), `${label}: ${JSON.stringify(res.body)}`);
      }
      assert.equal((await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/`, { as: course.owner })).status, 404, 'nothing was created');
    });

    it("who may change it: another instructor 403, a student 403, anonymous 401, someone else's draft 404, unknown lesson 404", async () => {
      const course = await createCourse(app);
      const lesson = await createLesson(app, course.id);
      const draft = await createCourse(app, { is_published: false });
      const draftLesson = await createLesson(app, draft.id);
      const other = await createInstructor(app);
      const doc = quizDocument();
      assert.equal((await call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, { as: other, body: doc })).status, 403);
      assert.equal((await call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, { as: await createStudent(app), body: doc })).status, 403);
      assert.equal((await call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, { body: doc })).status, 401);
      assert.equal((await call(app, 'PUT', `/api/lessons/${draftLesson.id}/quiz/`, { as: other, body: doc })).status, 404);
      assert.equal((await call(app, 'PUT', '/api/lessons/999999/quiz/', { as: other, body: doc })).status, 404);
      assert.equal((await call(app, 'PUT', '/api/lessons/99999999999/quiz/', { as: other, body: doc })).status, 404);
      assert.equal((await call(app, 'DELETE', `/api/lessons/${lesson.id}/quiz/`, { as: other })).status, 403);
      assert.equal(
        (await call(app, 'PUT', `/api/lessons/${draftLesson.id}/quiz/`, { as: draft.owner, body: doc })).status,
        200,
        'the owner edits their draft',
      );
      assert.equal((await call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, { as: await createAdmin(app), body: doc })).status, 200);
    });

    it('DELETE is 204, then the quiz and its attempts are gone (404) and the lesson completes by POST complete again', async () => {
      const { lesson, student, quiz, course } = await setup();
      await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: student, body: { answers: answersFor(quiz, [0]) } });
      assert.equal((await call(app, 'DELETE', `/api/lessons/${lesson.id}/quiz/`, { as: course.owner })).status, 204);
      assert.equal((await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/`, { as: student })).status, 404);
      assert.equal((await call(app, 'DELETE', `/api/lessons/${lesson.id}/quiz/`, { as: course.owner })).status, 404);
      assert.equal((await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: student })).status, 404);
      assert.equal((await completeLessonViaApi(app, student, lesson.id)).status, 200);
    });

    it('GET: student view for enrolled students and preview readers; 401/403 for others; draft 404; no quiz 404', async () => {
      const { lesson, student, course } = await setup();
      const res = await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/`, { as: student });
      assert.equal(res.status, 200);
      assert.equal(res.body.attempts_used, 0);
      assert.equal(res.body.attempts_left, null);
      for (const q of res.body.questions) {
        assert.deepEqual(Object.keys(q).sort(), ['choices', 'id', 'kind', 'order', 'points', 'prompt']);
        for (const c of q.choices) assert.deepEqual(Object.keys(c).sort(), ['id', 'text']);
      }
      assert.equal((await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/`)).status, 401);
      assert.equal((await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/`, { as: await createStudent(app) })).status, 403);
      assert.equal((await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/`, { as: await createInstructor(app) })).status, 403);
      const noQuiz = await createLesson(app, course.id);
      assert.equal((await call(app, 'GET', `/api/lessons/${noQuiz.id}/quiz/`, { as: student })).status, 404);
      const preview = await createLesson(app, course.id, { is_preview: true });
      assert.equal((await call(app, 'PUT', `/api/lessons/${preview.id}/quiz/`, { as: course.owner, body: quizDocument() })).status, 200);
      const anon = await call(app, 'GET', `/api/lessons/${preview.id}/quiz/`);
      assert.equal(anon.status, 200);
      assert.equal(anon.body.attempts_used, 0);
      assert.ok(!JSON.stringify(anon.body).includes(SECRET_ANSWER));
      const draft = await createCourse(app, { is_published: false });
      const draftLesson = await createLesson(app, draft.id, { is_preview: true });
      assert.equal((await call(app, 'PUT', `/api/lessons/${draftLesson.id}/quiz/`, { as: draft.owner, body: quizDocument() })).status, 200);
      assert.equal((await call(app, 'GET', `/api/lessons/${draftLesson.id}/quiz/`, { as: student })).status, 404);
    });

    it('the same PUT twice at once: both 200, one quiz', async () => {
      const course = await createCourse(app);
      const lesson = await createLesson(app, course.id);
      const results = await Promise.all(
        [1, 2].map(() => call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, { as: course.owner, body: quizDocument() })),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        [200, 200],
      );
      const quizzes = await app.database.db.selectFrom('quizzes').select('id').where('lesson_id', '=', lesson.id).execute();
      assert.equal(quizzes.length, 1);
      const questions = await app.database.db.selectFrom('quiz_questions').select('id').where('quiz_id', '=', quizzes[0]!.id).execute();
      assert.equal(questions.length, 4);
    });
  });

  describe('attempts', () => {
    it('grades on the server: every kind right is 100, weighted points, two places, passed against pass_mark', async () => {
      const { lesson, student, quiz } = await setup();
      const all = await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: student, body: { answers: answersFor(quiz) } });
      assert.equal(all.status, 201, JSON.stringify(all.body));
      assert.equal(all.body.score, 100);
      assert.equal(all.body.points, 5);
      assert.equal(all.body.max_points, 5);
      assert.equal(all.body.passed, true);
      assert.equal(all.body.quiz, quiz.id);
      assert.equal(all.body.student.id, student.user.id);
      assert.deepEqual(
        all.body.results.map((r: { correct: boolean }) => r.correct),
        [true, true, true, true],
      );
      // Multiple (2 points) wrong: 3 of 5 = 60 < 75.
      const some = await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, {
        as: student,
        body: { answers: answersFor(quiz, [1]) },
      });
      assert.equal(some.body.score, 60);
      assert.equal(some.body.passed, false);
      // Only the single question (1 of 5), the rest unanswered: 20.
      const one = await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, {
        as: student,
        body: { answers: answersFor(quiz).slice(0, 1) },
      });
      assert.equal(one.status, 201);
      assert.equal(one.body.score, 20);
      assert.deepEqual(
        one.body.results.map((r: { points: number }) => r.points),
        [1, 0, 0, 0],
      );
      const none = await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: student, body: { answers: [] } });
      assert.equal(none.body.score, 0);
      // Stored with the answers as given.
      const row = await app.database.db
        .selectFrom('quiz_attempts')
        .select(['answers', 'attempt_number'])
        .where('id', '=', one.body.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(row.answers), answersFor(quiz).slice(0, 1));
      assert.equal(row.attempt_number, 3);
    });

    it('a score of exactly the pass mark passes; 2 of 3 points is 66.67', async () => {
      const course = await createCourse(app);
      const lesson = await createLesson(app, course.id);
      const student = await createStudent(app);
      await enrollViaApi(app, student, course.id);
      const tf = { kind: 'true_false', prompt: 'p', choices: [{ text: 'T', correct: true }, { text: 'F' }] };
      const put = await call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, {
        as: course.owner,
        body: { pass_mark: 66, questions: [tf, tf, tf] },
      });
      const [a, b, c] = put.body.questions as Quiz['questions'];
      const res = await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, {
        as: student,
        body: {
          answers: [
            { question: a!.id, choices: [a!.choices[0]!.id] },
            { question: b!.id, choices: [b!.choices[0]!.id] },
            { question: c!.id, choices: [c!.choices[1]!.id] },
          ],
        },
      });
      assert.equal(res.body.score, 66.67);
      assert.equal(res.body.passed, true);
    });

    it("bad answers are 400 keyed by the answer index: another quiz's question, another question's choice, twice, wrong form, NUL", async () => {
      const { lesson, student, quiz } = await setup();
      const other = await setup();
      const [single, multiple, , short] = quiz.questions;
      const post = (answers: unknown[]) =>
        call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: student, body: { answers } });
      const cases: [string, unknown[], string, string][] = [
        [
          'a question of another quiz',
          [{ question: other.quiz.questions[0]!.id, choices: [other.quiz.questions[0]!.choices[0]!.id] }],
          '0',
          'question',
        ],
        ['an unknown question', [{ question: 99999999, choices: [] }], '0', 'question'],
        ['a choice of another question', [{ question: single!.id, choices: [multiple!.choices[0]!.id] }], '0', 'choices'],
        [
          'a question answered twice',
          [
            { question: single!.id, choices: [] },
            { question: single!.id, choices: [] },
          ],
          '1',
          'question',
        ],
        [
          'a choice given twice',
          [{ question: multiple!.id, choices: [multiple!.choices[0]!.id, multiple!.choices[0]!.id] }],
          '0',
          'choices',
        ],
        ['text for a choice question', [{ question: single!.id, text: 'B' }], '0', 'text'],
        ['choices for a short_text question', [{ question: short!.id, choices: [single!.choices[0]!.id] }], '0', 'choices'],
        ['a choice id that is not an integer', [{ question: single!.id, choices: ['x'] }], '0', 'choices'],
        ['no question', [{ choices: [] }], '0', 'question'],
      ];
      for (const [label, answers, index, field] of cases) {
        const res = await post(answers);
        assert.equal(res.status, 400, `${label}: ${JSON.stringify(res.body)}`);
        assert.ok(Array.isArray(res.body.answers?.[index]?.[field]), `${label}: ${JSON.stringify(res.body)}`);
      }
      const nul = await post([{ question: short!.id, text: 'a\u0000' }]);
      assert.equal(nul.status, 400);
      assert.equal(nul.headers['x-error-code'], 'null_characters_not_allowed');
      assert.equal((await post(undefined as unknown as unknown[])).status, 400);
      assert.equal(
        (await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: student })).body.count,
        0,
        'no attempt was stored',
      );
    });

    it('who may submit: not enrolled 403 (also on a preview lesson), instructors and admins 403, anonymous 401, no quiz 404', async () => {
      const { lesson, quiz, course } = await setup();
      const body = { answers: answersFor(quiz) };
      const outsider = await createStudent(app);
      assert.equal((await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: outsider, body })).status, 403);
      assert.equal((await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: course.owner, body })).status, 403);
      assert.equal((await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: await createAdmin(app), body })).status, 403);
      assert.equal((await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { body })).status, 401);
      const preview = await createLesson(app, course.id, { is_preview: true });
      const put = await call(app, 'PUT', `/api/lessons/${preview.id}/quiz/`, { as: course.owner, body: quizDocument() });
      const res = await call(app, 'POST', `/api/lessons/${preview.id}/quiz/attempts/`, {
        as: outsider,
        body: { answers: answersFor(put.body) },
      });
      assert.equal(res.status, 403);
      assert.equal(res.headers['x-error-code'], 'not_enrolled');
      const enrolled = await createStudent(app);
      await enrollViaApi(app, enrolled, course.id);
      const bare = await createLesson(app, course.id);
      assert.equal(
        (await call(app, 'POST', `/api/lessons/${bare.id}/quiz/attempts/`, { as: enrolled, body: { answers: [] } })).status,
        404,
      );
      assert.equal((await call(app, 'POST', '/api/lessons/99999999/quiz/attempts/', { as: enrolled, body: { answers: [] } })).status, 404);
    });

    it('max_attempts: the attempt past the limit is 409 no_attempts_left; the student view counts them', async () => {
      const { lesson, student, quiz } = await setup({ max_attempts: 2 });
      for (let i = 0; i < 2; i++)
        assert.equal(
          (await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: student, body: { answers: answersFor(quiz, [0]) } }))
            .status,
          201,
        );
      const third = await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, {
        as: student,
        body: { answers: answersFor(quiz) },
      });
      assert.equal(third.status, 409);
      assert.equal(third.headers['x-error-code'], 'no_attempts_left');
      const view = await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/`, { as: student });
      assert.equal(view.body.attempts_used, 2);
      assert.equal(view.body.attempts_left, 0);
    });

    it('reveal_answers: after_pass hides until the student passes, always shows, never hides; authors always see', async () => {
      const revealed = (attempt: { results: Record<string, unknown>[] }) =>
        attempt.results.every((r) => 'explanation' in r && 'accepted_answers' in r && 'choices' in r);
      const hidden = (attempt: { results: Record<string, unknown>[] }) =>
        attempt.results.every((r) => Object.keys(r).sort().join() === 'correct,points,question');

      const after = await setup();
      const post = (s: typeof after, wrong: number[]) =>
        call(app, 'POST', `/api/lessons/${s.lesson.id}/quiz/attempts/`, { as: s.student, body: { answers: answersFor(s.quiz, wrong) } });
      const failed = await post(after, [0, 1]);
      assert.ok(hidden(failed.body), JSON.stringify(failed.body));
      assert.ok(hidden((await call(app, 'GET', `/api/lessons/${after.lesson.id}/quiz/attempts/`, { as: after.student })).body.results[0]));
      const passed = await post(after, []);
      assert.ok(revealed(passed.body));
      const short = passed.body.results[3];
      assert.deepEqual(short.accepted_answers, [SECRET_ANSWER, 'Other-Place']);
      assert.equal(short.explanation, SECRET_EXPLANATION);
      assert.deepEqual(
        passed.body.results[1].choices,
        after.quiz.questions[1]!.choices.filter((c) => c.correct).map((c) => c.id),
      );
      const list = await call(app, 'GET', `/api/lessons/${after.lesson.id}/quiz/attempts/`, { as: after.student });
      assert.ok(list.body.results.every(revealed), 'once passed, earlier attempts show the answers too');

      const always = await setup({ reveal_answers: 'always' });
      assert.ok(revealed((await post(always, [0, 1, 2, 3])).body));

      const never = await setup({ reveal_answers: 'never' });
      assert.ok(hidden((await post(never, [])).body));
      const owner = await call(app, 'GET', `/api/lessons/${never.lesson.id}/quiz/attempts/`, { as: never.course.owner });
      assert.ok(owner.body.results.every(revealed));
    });

    it("lists: a student their own, newest first; the owner and admins everyone's, filtered by student; a huge page 404", async () => {
      const { lesson, student, quiz, course } = await setup();
      const other = await createStudent(app);
      await enrollViaApi(app, other, course.id);
      const mine = [];
      for (let i = 0; i < 3; i++)
        mine.push(
          (await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: student, body: { answers: answersFor(quiz, [i]) } }))
            .body.id,
        );
      await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: other, body: { answers: [] } });
      const own = await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: student });
      assert.equal(own.body.count, 3);
      const ids = own.body.results.map((r: { id: number }) => r.id);
      const times = own.body.results.map((r: { submitted_at: string }) => r.submitted_at);
      assert.deepEqual([...times].sort().reverse(), times, 'newest first');
      assert.deepEqual([...ids].sort(), [...mine].sort());
      const ignored = await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/attempts/?student=${other.user.id}`, { as: student });
      assert.equal(ignored.body.count, 3, 'a student sees only their own whatever the filter');
      assert.equal((await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: course.owner })).body.count, 4);
      const filtered = await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/attempts/?student=${other.user.id}`, {
        as: await createAdmin(app),
      });
      assert.equal(filtered.body.count, 1);
      assert.equal(filtered.body.results[0].student.id, other.user.id);
      assert.equal((await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/attempts/?page=999999999999`, { as: student })).status, 404);
      assert.equal((await call(app, 'GET', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: await createStudent(app) })).status, 403);
    });
  });

  describe('completion', () => {
    it('POST complete on a quiz lesson is 400 quiz_required; the first passing attempt completes it with progress, events and the certificate', async () => {
      const { lesson, plain, student, quiz, course } = await setup();
      const refused = await completeLessonViaApi(app, student, lesson.id);
      assert.equal(refused.status, 400);
      assert.equal(refused.headers['x-error-code'], 'quiz_required');
      assert.equal((await completeLessonViaApi(app, student, plain.id)).status, 200);
      await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: student, body: { answers: answersFor(quiz, [1]) } });
      assert.equal(
        (await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: student })).body.completed_lessons,
        1,
        'a failed attempt completes nothing',
      );
      assert.equal((await call(app, 'GET', '/api/my-certificates/', { as: student })).body.count, 0);
      const pass = await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, {
        as: student,
        body: { answers: answersFor(quiz) },
      });
      assert.equal(pass.body.passed, true);
      const progress = await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: student });
      assert.equal(progress.body.progress, 100);
      assert.notEqual(progress.body.completed_at, null);
      assert.equal(progress.body.lessons.find((l: { id: number }) => l.id === lesson.id).completed, true);
      const certificates = await call(app, 'GET', '/api/my-certificates/', { as: student });
      assert.equal(certificates.body.count, 1);
      assert.equal(certificates.body.results[0].course.id, course.id);
      // Passing again changes nothing.
      await call(app, 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { as: student, body: { answers: answersFor(quiz) } });
      const events = await app.database.db
        .selectFrom('events')
        .select(['type', 'data'])
        .where('course_id', '=', course.id)
        .orderBy('created_at')
        .execute();
      const types = events.map((e) => e.type);
      assert.equal(types.filter((t) => t === 'quiz.attempted').length, 3);
      assert.equal(types.filter((t) => t === 'lesson.completed').length, 2);
      assert.equal(types.filter((t) => t === 'course.completed').length, 1);
      assert.equal(types.filter((t) => t === 'certificate.issued').length, 1);
      const attempted = events
        .filter((e) => e.type === 'quiz.attempted')
        .map((e) => e.data)
        .join('\n');
      assert.ok(
        !attempted.includes(SECRET_ANSWER) && !attempted.includes(SECRET_EXPLANATION) && !attempted.includes('"correct"'),
        attempted,
      );
    });
  });

  describe('answers never leak to a student', () => {
    it('scans every response a student can get for the accepted answers and explanations', async () => {
      const { lesson, plain, student, quiz, course } = await setup({ reveal_answers: 'never', max_attempts: 2 });
      const responses: [string, { status: number; body: unknown }][] = [];
      const get = async (label: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: Record<string, unknown>) => {
        const res = await call(app, method, url, { as: student, body });
        responses.push([`${label} ${res.status}`, res]);
        return res;
      };
      await get('quiz', 'GET', `/api/lessons/${lesson.id}/quiz/`);
      await get('failing attempt', 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { answers: answersFor(quiz, [0, 3]) });
      await get('passing attempt', 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { answers: answersFor(quiz) });
      await get('no attempts left', 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, { answers: answersFor(quiz) });
      await get('attempts', 'GET', `/api/lessons/${lesson.id}/quiz/attempts/`);
      await get('bad answers', 'POST', `/api/lessons/${lesson.id}/quiz/attempts/`, {
        answers: [
          { question: quiz.questions[3]!.id, choices: [quiz.questions[0]!.choices[1]!.id] },
          { question: quiz.questions[0]!.id, text: 'x' },
        ],
      });
      await get('complete refused', 'POST', `/api/lessons/${lesson.id}/complete/`);
      await get('quiz PUT refused', 'PUT', `/api/lessons/${lesson.id}/quiz/`, quizDocument());
      await get('lesson', 'GET', `/api/lessons/${lesson.id}/`);
      await get('lesson list', 'GET', `/api/lessons/?course=${course.id}`);
      await get('all lessons', 'GET', '/api/lessons/');
      await get('course', 'GET', `/api/courses/${course.id}/`);
      await get('my courses', 'GET', '/api/my-courses/');
      await get('my progress', 'GET', '/api/my-progress/');
      await get('my progress detail', 'GET', `/api/my-progress/${course.id}/`);
      await get('plain lesson', 'GET', `/api/lessons/${plain.id}/`);
      await get('my certificates', 'GET', '/api/my-certificates/');
      const statuses = responses.map(([label]) => label);
      assert.ok(
        responses.every(([, r]) => r.status < 500),
        statuses.join(', '),
      );
      assert.equal(responses[2]![1].status, 201, 'the passing attempt was taken');
      for (const [label, res] of responses) {
        const text = JSON.stringify(res.body ?? '');
        for (const secret of [SECRET_ANSWER, SECRET_EXPLANATION, SECRET_CHOICE_EXPLANATION, 'Other-Place']) {
          assert.ok(!text.includes(secret), `${label} leaks ${secret}: ${text}`);
        }
        assert.ok(!/"accepted_answers"|"explanation"/.test(text), `${label}: ${text}`);
      }
      // The quiz itself never says which choice is correct.
      assert.ok(!JSON.stringify(responses[0]![1].body).includes('"correct"'));
    });
  });
});
