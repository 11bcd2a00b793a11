import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../db/errors.js';
import type { Executor } from '../../db/query.js';
import { writeTransaction } from '../../db/transaction.js';
import type { DB, QuizChoiceRow, QuizQuestionRow, QuizRow } from '../../db/types.js';
import type { RequestContext, UserContext } from '../../shared/context.js';
import { conflict, forbidden, HttpError, notFound } from '../../shared/errors.js';
import type { FieldErrors } from '../../shared/errors.js';
import { pageRequest, paginate } from '../../shared/pagination.js';
import type { Page } from '../../shared/pagination.js';
import { nowIso, toBool, toIso } from '../../shared/time.js';
import { canEditCourse, canSeeCourse } from '../courses/policy.js';
import type { CourseFacts, Viewer } from '../courses/policy.js';
import type { DomainEvent } from '../events/service.js';
import type { PublicUser } from '../users/schemas.js';
import { grade } from './grading.js';
import type { GivenAnswer, GradedQuestion, QuestionResult } from './grading.js';
import { attemptsLeft, revealsAnswers } from './policy.js';
import * as repo from './repository.js';
import { DEFAULT_PASS_MARK, DEFAULT_REVEAL } from './schemas.js';
import type {
  AttemptsQueryInput,
  QuizAttempt,
  QuizAttemptInput,
  QuizAuthor,
  QuizInput,
  QuizQuestionInput,
  QuizStudent,
} from './schemas.js';

/** What this module needs of the lessons module. */
export interface LessonsPort {
  findFacts(lessonId: number): Promise<{ id: number; course_id: number } | undefined>;
  /**
   * The lesson read policy: resolves when the caller may read the lesson in full, throws the
   * 404 / 401 / 403 the lesson detail would (a locked lesson of a sequential course: 403).
   */
  get(ctx: RequestContext, lessonId: number): Promise<unknown>;
}

/** What this module needs of the courses module. */
export interface CoursesPort {
  findFacts(id: number): Promise<CourseFacts | undefined>;
  lockCourse(trx: Executor, id: number): Promise<unknown>;
}

/** What this module needs of the enrollments module, inside the attempt's transaction. */
export interface EnrollmentsPort {
  /** The caller's enrollment, locked: one student's attempts and completions run one after another. */
  lockEnrollment(trx: Executor, studentId: number, courseId: number): Promise<{ id: number } | undefined>;
  /** Completes the lesson exactly as POST .../complete/ does (progress, completed_at, certificate, events). */
  completeLessonIn(trx: Executor, studentId: number, lesson: { id: number; course_id: number }): Promise<void>;
}

export interface UsersPort {
  toPublicUser(
    ctx: RequestContext,
    row: { id: number; username: string; first_name: string; last_name: string; bio: string; profile_image: string | null },
  ): PublicUser;
}

export interface EventsPort {
  record(trx: Executor, event: DomainEvent): Promise<string>;
}

export interface QuizzesServiceDeps {
  db: Kysely<DB>;
  events: EventsPort;
  courses: () => CoursesPort;
  lessons: () => LessonsPort;
  enrollments: () => EnrollmentsPort;
  users: () => UsersPort;
}

export type QuizzesService = ReturnType<typeof createQuizzesService>;

/** Errors of the items of a list, keyed by index as DRF keys a ListField's: `{"questions": {"2": {"choices": ["..."]}}}`. */
export type ItemErrors = Record<string, FieldErrors>;
export type NestedErrors = Record<string, string[] | ItemErrors>;
// FieldErrors describes flat bodies; these nest one level, as DRF does for the items of a list.
export const invalidNested = (body: NestedErrors) => new HttpError(400, body as unknown as FieldErrors, 'invalid');
export const invalidItems = (field: string, items: ItemErrors) => invalidNested({ [field]: items });

const NO_QUIZ = 'This lesson has no quiz.';
const NUL = 'Null characters are not allowed.';
const hasNul = (text: string) => text.includes('\u0000');

/** Per-question checks the schema cannot express: the rules of each kind. */
function cleanQuestions(input: QuizQuestionInput[]): repo.NewQuestion[] {
  const errors: ItemErrors = {};
  const questions = input.map((q, index): repo.NewQuestion => {
    const fields: FieldErrors = {};
    const add = (field: string, message: string) => {
      const list = (fields[field] ??= []);
      if (!list.includes(message)) list.push(message);
    };
    const prompt = q.prompt.trim();
    if (prompt === '') add('prompt', 'This field may not be blank.');
    if (hasNul(q.prompt)) add('prompt', NUL);
    const explanation = (q.explanation ?? '').trim();
    if (hasNul(explanation)) add('explanation', NUL);
    const choices = (q.choices ?? []).map((c) => ({ text: c.text.trim(), correct: c.correct ?? false }));
    if (choices.some((c) => c.text === '')) add('choices', 'A choice may not be blank.');
    if (choices.some((c) => hasNul(c.text))) add('choices', NUL);
    const accepted = (q.accepted_answers ?? []).map((a) => a.trim());
    if (accepted.some((a) => a === '')) add('accepted_answers', 'An accepted answer may not be blank.');
    if (accepted.some(hasNul)) add('accepted_answers', NUL);
    const correctCount = choices.filter((c) => c.correct).length;

    if (q.kind === 'short_text') {
      if (choices.length > 0) add('choices', 'A short_text question has no choices.');
      if (accepted.length === 0) add('accepted_answers', 'A short_text question needs 1 to 20 accepted answers.');
    } else {
      if (accepted.length > 0) add('accepted_answers', 'Only a short_text question has accepted answers.');
      if (q.kind === 'true_false' && choices.length !== 2) add('choices', 'A true_false question has exactly two choices.');
      else if (choices.length < 2) add('choices', 'A choice question needs at least two choices.');
      if (q.kind === 'multiple' && correctCount < 1) add('choices', 'At least one choice must be correct.');
      if (q.kind !== 'multiple' && correctCount !== 1) add('choices', 'Exactly one choice must be correct.');
    }
    if (Object.keys(fields).length > 0) errors[String(index)] = fields;
    return { position: index + 1, kind: q.kind, prompt, points: q.points ?? 1, accepted_answers: accepted, explanation, choices };
  });
  if (Object.keys(errors).length > 0) throw invalidItems('questions', errors);
  return questions;
}

interface LoadedQuestion {
  row: QuizQuestionRow;
  choices: QuizChoiceRow[];
  accepted: string[];
}

async function loadQuestions(db: Executor, quizId: number): Promise<LoadedQuestion[]> {
  const [questions, choices] = await Promise.all([repo.questionsOf(db, quizId), repo.choicesOf(db, quizId)]);
  const byQuestion = new Map<number, QuizChoiceRow[]>();
  for (const c of choices) {
    const list = byQuestion.get(c.question_id) ?? [];
    list.push(c);
    byQuestion.set(c.question_id, list);
  }
  return questions.map((row) => ({ row, choices: byQuestion.get(row.id) ?? [], accepted: JSON.parse(row.accepted_answers) as string[] }));
}

/** The answers checked against the quiz: each names one of its questions once, and only that question's choices. */
function readAnswers(questions: LoadedQuestion[], answers: QuizAttemptInput['answers']): Map<number, GivenAnswer> {
  const byId = new Map(questions.map((q) => [q.row.id, q]));
  const given = new Map<number, GivenAnswer>();
  const errors: ItemErrors = {};
  answers.forEach((answer, index) => {
    const fields: FieldErrors = {};
    const add = (field: string, message: string) => (fields[field] ??= []).push(message);
    const question = byId.get(answer.question);
    if (!question) add('question', 'This question is not part of this quiz.');
    else if (given.has(answer.question)) add('question', 'This question is answered more than once.');
    else if (question.row.kind === 'short_text') {
      if (answer.choices !== undefined) add('choices', 'This question is answered with text, not choices.');
      if (answer.text === undefined) add('text', 'This field is required.');
      else if (hasNul(answer.text)) add('text', NUL);
      else given.set(answer.question, { text: answer.text });
    } else {
      if (answer.text !== undefined) add('text', 'This question is answered with choices, not text.');
      if (answer.choices === undefined) add('choices', 'This field is required.');
      else {
        const own = new Set(question.choices.map((c) => c.id));
        const foreign = answer.choices.filter((id) => !own.has(id));
        if (foreign.length > 0) add('choices', `Not a choice of this question: ${foreign.join(', ')}.`);
        if (new Set(answer.choices).size !== answer.choices.length) add('choices', 'A choice is given more than once.');
        given.set(answer.question, { choices: answer.choices });
      }
    }
    if (Object.keys(fields).length > 0) errors[String(index)] = fields;
  });
  if (Object.keys(errors).length > 0) throw invalidItems('answers', errors);
  return given;
}

const toGraded = (q: LoadedQuestion): GradedQuestion => ({
  id: q.row.id,
  kind: q.row.kind,
  points: q.row.points,
  choices: q.choices.map((c) => ({ id: c.id, correct: toBool(c.correct) })),
  accepted_answers: q.accepted,
  explanation: q.row.explanation,
});

const settingsOf = (quiz: QuizRow) => ({
  id: quiz.id,
  lesson: quiz.lesson_id,
  pass_mark: quiz.pass_mark,
  max_attempts: quiz.max_attempts,
  reveal_answers: quiz.reveal_answers,
  updated_at: toIso(quiz.updated_at),
});

/** The author view: everything, correct answers included. Only for the course's owner and admins. */
const authorView = (quiz: QuizRow, questions: LoadedQuestion[]): QuizAuthor => ({
  ...settingsOf(quiz),
  questions: questions.map((q) => ({
    id: q.row.id,
    order: q.row.position,
    kind: q.row.kind,
    prompt: q.row.prompt,
    points: q.row.points,
    choices: q.choices.map((c) => ({ id: c.id, text: c.text, correct: toBool(c.correct) })),
    accepted_answers: q.accepted,
    explanation: q.row.explanation,
  })),
});

/** The student view, built field by field from an allow-list: nothing that says what is correct. */
const studentView = (quiz: QuizRow, questions: LoadedQuestion[], used: number): QuizStudent => ({
  ...settingsOf(quiz),
  questions: questions.map((q) => ({
    id: q.row.id,
    order: q.row.position,
    kind: q.row.kind,
    prompt: q.row.prompt,
    points: q.row.points,
    choices: q.choices.map((c) => ({ id: c.id, text: c.text })),
  })),
  attempts_used: used,
  attempts_left: attemptsLeft(quiz.max_attempts, used),
});

export function createQuizzesService(deps: QuizzesServiceDeps) {
  const { db } = deps;

  /**
   * The one access check for reading a quiz: the lesson read policy of the lessons module
   * (drafts 404, not entitled 401/403, sequential locks 403), then whether the caller
   * authors the course. Swap here if the lessons module grows a narrower check.
   */
  async function readableLesson(ctx: RequestContext, lessonId: number) {
    await deps.lessons().get(ctx, lessonId);
    const lesson = await deps.lessons().findFacts(lessonId);
    const course = lesson && (await deps.courses().findFacts(lesson.course_id));
    if (!lesson || !course) throw notFound();
    return { lesson, isAuthor: canEditCourse(ctx.viewer, course) };
  }

  /** A lesson whose quiz the caller may change: someone else's draft is a 404, a course they do not own a 403. */
  async function editableLesson(viewer: Viewer, lessonId: number) {
    const lesson = await deps.lessons().findFacts(lessonId);
    const course = lesson && (await deps.courses().findFacts(lesson.course_id));
    if (!lesson || !course || !canSeeCourse(viewer, course)) throw notFound();
    if (!canEditCourse(viewer, course)) throw forbidden('Only the owner of the course or an admin may change its quizzes.');
    return lesson;
  }

  async function quizOf(lessonId: number): Promise<QuizRow> {
    const quiz = await repo.findByLesson(db, lessonId);
    if (!quiz) throw notFound(NO_QUIZ);
    return quiz;
  }

  function attemptView(ctx: RequestContext, row: repo.AttemptRow, reveal: boolean): QuizAttempt {
    const results = JSON.parse(row.results) as QuestionResult[];
    return {
      id: row.id,
      quiz: row.quiz_id,
      student: deps.users().toPublicUser(ctx, { ...row, id: row.student_id }),
      score: Number(row.score),
      passed: toBool(row.passed),
      points: row.points,
      max_points: row.max_points,
      submitted_at: toIso(row.submitted_at),
      results: results.map((r) =>
        reveal
          ? {
              question: r.question,
              correct: r.correct,
              points: r.points,
              choices: r.correct_choices,
              accepted_answers: r.accepted_answers,
              explanation: r.explanation,
            }
          : { question: r.question, correct: r.correct, points: r.points },
      ),
    };
  }

  async function replaceOnce(lesson: { id: number; course_id: number }, input: QuizInput, questions: repo.NewQuestion[]) {
    return writeTransaction(db, async (trx) => {
      // Course first, as every writer of a course's rows; then the lesson (it must still exist), then the quiz.
      await deps.courses().lockCourse(trx, lesson.course_id);
      if (!(await repo.lockLessonKey(trx, lesson.id))) throw notFound();
      const settings = {
        pass_mark: input.pass_mark ?? DEFAULT_PASS_MARK,
        max_attempts: input.max_attempts ?? null,
        reveal_answers: input.reveal_answers ?? DEFAULT_REVEAL,
      };
      const now = nowIso();
      const existing = await repo.lockByLesson(trx, lesson.id);
      let quiz: QuizRow;
      if (existing) {
        quiz = await repo.updateQuiz(trx, existing.id, { ...settings, updated_at: now });
        // Attempts keep their graded snapshot; the questions are replaced whole.
        await repo.deleteQuestions(trx, existing.id);
      } else {
        quiz = await repo.insertQuiz(trx, { lesson_id: lesson.id, ...settings, now });
      }
      await repo.insertQuestions(trx, quiz.id, questions);
      return authorView(quiz, await loadQuestions(trx, quiz.id));
    });
  }

  return {
    /** Refuses a caller who may not change the lesson's quiz (404 or 403), before the body is read. */
    async checkEditable(ctx: UserContext, lessonId: number): Promise<void> {
      await editableLesson(ctx.viewer, lessonId);
    },

    /** Whether the lesson carries a quiz (then it completes only by passing it). */
    /** The student's attempts with their answers, for their personal data export. */
    async exportFor(userId: number): Promise<Record<string, unknown>[]> {
      const rows = await repo.attemptsOfStudentForExport(db, userId);
      return rows.map((r) => ({
        id: r.id,
        quiz: r.quiz_id,
        lesson: r.lesson_id,
        attempt: r.attempt_number,
        score: Number(r.score),
        passed: toBool(r.passed),
        points: r.points,
        max_points: r.max_points,
        answers: JSON.parse(r.answers) as unknown,
        submitted_at: toIso(r.submitted_at),
      }));
    },

    /** Erasure: the account's attempts go with it. */
    async eraseFor(ctx: UserContext): Promise<void> {
      await repo.deleteAttemptsOfStudent(db, ctx.viewer.id);
    },

    async hasQuiz(lessonId: number, trx: Executor = db): Promise<boolean> {
      return repo.hasQuiz(trx, lessonId);
    },

    async get(ctx: RequestContext, lessonId: number): Promise<QuizAuthor | QuizStudent> {
      const { isAuthor } = await readableLesson(ctx, lessonId);
      const quiz = await quizOf(lessonId);
      const questions = await loadQuestions(db, quiz.id);
      if (isAuthor) return authorView(quiz, questions);
      const used = ctx.viewer ? await repo.attemptsCount(db, quiz.id, ctx.viewer.id) : 0;
      return studentView(quiz, questions, used);
    },

    /** Replaces the whole quiz atomically (created when absent). Two first PUTs at once: the second replaces the first. */
    async put(ctx: UserContext, lessonId: number, input: QuizInput): Promise<QuizAuthor> {
      const lesson = await editableLesson(ctx.viewer, lessonId);
      const questions = cleanQuestions(input.questions);
      try {
        return await replaceOnce(lesson, input, questions);
      } catch (error) {
        // A concurrent first PUT created the quiz after our look: replace that one.
        if (isUniqueViolation(error)) return replaceOnce(lesson, input, questions);
        throw error;
      }
    },

    async remove(ctx: UserContext, lessonId: number): Promise<void> {
      const lesson = await editableLesson(ctx.viewer, lessonId);
      await writeTransaction(db, async (trx) => {
        await deps.courses().lockCourse(trx, lesson.course_id);
        const quiz = await repo.lockByLesson(trx, lessonId);
        if (!quiz) throw notFound(NO_QUIZ);
        await repo.deleteQuiz(trx, quiz.id);
      });
    },

    /**
     * Grades and stores an attempt. In one transaction: the lesson is held, then the
     * student's enrollment locked (their attempts run one after another, so the count
     * cannot be passed by concurrent submissions; the unique attempt number backs it), then
     * the quiz held against replacement while it is graded. A passing attempt completes the
     * lesson in the same transaction, as POST .../complete/ would.
     */
    async attempt(ctx: UserContext, lessonId: number, input: QuizAttemptInput): Promise<QuizAttempt> {
      const { lesson } = await readableLesson(ctx, lessonId);
      const student = ctx.viewer.id;
      let attemptId: number;
      try {
        attemptId = await writeTransaction(db, async (trx) => {
          if (!(await repo.lockLessonKey(trx, lessonId))) throw notFound();
          if (!(await deps.enrollments().lockEnrollment(trx, student, lesson.course_id))) {
            throw forbidden('You are not enrolled in this course.', 'not_enrolled');
          }
          const quiz = await repo.shareByLesson(trx, lessonId);
          if (!quiz) throw notFound(NO_QUIZ);
          const questions = await loadQuestions(trx, quiz.id);
          const answers = readAnswers(questions, input.answers);
          const used = await repo.attemptsCount(trx, quiz.id, student);
          if (quiz.max_attempts !== null && used >= quiz.max_attempts)
            throw conflict('You have no attempts left for this quiz.', 'no_attempts_left');
          const result = grade(questions.map(toGraded), answers, quiz.pass_mark);
          const row = await repo.insertAttempt(trx, {
            quiz_id: quiz.id,
            student_id: student,
            attempt_number: used + 1,
            score: result.score,
            passed: result.passed,
            points: result.points,
            max_points: result.max_points,
            answers: JSON.stringify(input.answers),
            results: JSON.stringify(result.results),
            submitted_at: nowIso(),
          });
          await deps.events.record(trx, {
            type: 'quiz.attempted',
            courseId: lesson.course_id,
            // Ids and the grade only: never what was correct.
            data: {
              attempt: {
                id: row.id,
                quiz: quiz.id,
                lesson: lessonId,
                student,
                score: result.score,
                passed: result.passed,
                points: result.points,
                max_points: result.max_points,
                submitted_at: toIso(row.submitted_at),
              },
            },
          });
          if (result.passed) await deps.enrollments().completeLessonIn(trx, student, lesson);
          return row.id;
        });
      } catch (error) {
        // The database's last word on the attempt count: a number taken meanwhile.
        if (isUniqueViolation(error)) throw conflict('You have no attempts left for this quiz.', 'no_attempts_left');
        throw error;
      }
      const quiz = await quizOf(lessonId);
      const row = await repo.findAttempt(db, attemptId);
      const reveal = revealsAnswers(quiz.reveal_answers, { isAuthor: false, hasPassed: await repo.hasPassed(db, quiz.id, student) });
      return attemptView(ctx, row, reveal);
    },

    /** Students see their own attempts; the owner and admins everyone's (filter `student`). Newest first. */
    async attempts(ctx: UserContext, lessonId: number, query: AttemptsQueryInput): Promise<Page<QuizAttempt>> {
      const { isAuthor } = await readableLesson(ctx, lessonId);
      const quiz = await quizOf(lessonId);
      const studentId = isAuthor ? query.student : ctx.viewer.id;
      const reveal = revealsAnswers(quiz.reveal_answers, {
        isAuthor,
        hasPassed: !isAuthor && (await repo.hasPassed(db, quiz.id, ctx.viewer.id)),
      });
      return paginate(ctx, pageRequest(query), repo.listAttempts(db, quiz.id, studentId), (rows) =>
        rows.map((row) => attemptView(ctx, row, reveal)),
      );
    },
  };
}
