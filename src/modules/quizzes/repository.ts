import { isPostgres } from '../../db/index.js';
import { forKeyShare, forUpdate, listQuery } from '../../db/query.js';
import type { Executor } from '../../db/query.js';
import type { QuizKind, RevealAnswers } from '../../db/types.js';

export function findByLesson(db: Executor, lessonId: number) {
  return db.selectFrom('quizzes').selectAll().where('lesson_id', '=', lessonId).executeTakeFirst();
}

export async function hasQuiz(db: Executor, lessonId: number): Promise<boolean> {
  return (await db.selectFrom('quizzes').select('id').where('lesson_id', '=', lessonId).executeTakeFirst()) !== undefined;
}

/** The quiz locked against replacement (PostgreSQL FOR UPDATE), for the writer that replaces or deletes it. */
export function lockByLesson(db: Executor, lessonId: number) {
  return forUpdate(db, db.selectFrom('quizzes').selectAll().where('lesson_id', '=', lessonId)).executeTakeFirst();
}

/**
 * The quiz held (PostgreSQL FOR SHARE) while an attempt is graded: a replacement waits, so the
 * questions read next are those of one version of the quiz.
 */
export function shareByLesson(db: Executor, lessonId: number) {
  const query = db.selectFrom('quizzes').selectAll().where('lesson_id', '=', lessonId);
  return (isPostgres(db) ? query.forShare() : query).executeTakeFirst();
}

/** Holds the lesson (FOR KEY SHARE) so it cannot be deleted under the transaction; undefined if gone. */
export function lockLessonKey(db: Executor, lessonId: number) {
  return forKeyShare(db, db.selectFrom('lessons').select(['id', 'course_id']).where('id', '=', lessonId)).executeTakeFirst();
}

export function insertQuiz(
  db: Executor,
  values: { lesson_id: number; pass_mark: number; max_attempts: number | null; reveal_answers: RevealAnswers; now: string },
) {
  return db
    .insertInto('quizzes')
    .values({
      lesson_id: values.lesson_id,
      pass_mark: values.pass_mark,
      max_attempts: values.max_attempts,
      reveal_answers: values.reveal_answers,
      created_at: values.now,
      updated_at: values.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function updateQuiz(
  db: Executor,
  id: number,
  values: { pass_mark: number; max_attempts: number | null; reveal_answers: RevealAnswers; updated_at: string },
) {
  return db.updateTable('quizzes').set(values).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function deleteQuestions(db: Executor, quizId: number): Promise<void> {
  await db.deleteFrom('quiz_questions').where('quiz_id', '=', quizId).execute();
}

export async function deleteQuiz(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('quizzes').where('id', '=', id).execute();
}

export interface NewQuestion {
  position: number;
  kind: QuizKind;
  prompt: string;
  points: number;
  accepted_answers: string[];
  explanation: string;
  choices: { text: string; correct: boolean }[];
}

export async function insertQuestions(db: Executor, quizId: number, questions: NewQuestion[]): Promise<void> {
  for (const q of questions) {
    const row = await db
      .insertInto('quiz_questions')
      .values({
        quiz_id: quizId,
        position: q.position,
        kind: q.kind,
        prompt: q.prompt,
        points: q.points,
        accepted_answers: JSON.stringify(q.accepted_answers),
        explanation: q.explanation,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (q.choices.length > 0) {
      await db
        .insertInto('quiz_choices')
        .values(q.choices.map((c, i) => ({ question_id: row.id, position: i + 1, text: c.text, correct: c.correct })))
        .execute();
    }
  }
}

export function questionsOf(db: Executor, quizId: number) {
  return db.selectFrom('quiz_questions').selectAll().where('quiz_id', '=', quizId).orderBy('position').execute();
}

export function choicesOf(db: Executor, quizId: number) {
  return db
    .selectFrom('quiz_choices')
    .innerJoin('quiz_questions', 'quiz_questions.id', 'quiz_choices.question_id')
    .where('quiz_questions.quiz_id', '=', quizId)
    .selectAll('quiz_choices')
    .orderBy('quiz_choices.question_id')
    .orderBy('quiz_choices.position')
    .execute();
}

export async function attemptsCount(db: Executor, quizId: number, studentId: number): Promise<number> {
  const row = await db
    .selectFrom('quiz_attempts')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('quiz_id', '=', quizId)
    .where('student_id', '=', studentId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function hasPassed(db: Executor, quizId: number, studentId: number): Promise<boolean> {
  const row = await db
    .selectFrom('quiz_attempts')
    .select('id')
    .where('quiz_id', '=', quizId)
    .where('student_id', '=', studentId)
    .where('passed', '=', true)
    .executeTakeFirst();
  return row !== undefined;
}

export function insertAttempt(
  db: Executor,
  values: {
    quiz_id: number;
    student_id: number;
    attempt_number: number;
    score: number;
    passed: boolean;
    points: number;
    max_points: number;
    answers: string;
    results: string;
    submitted_at: string;
  },
) {
  return db.insertInto('quiz_attempts').values(values).returningAll().executeTakeFirstOrThrow();
}

const attemptColumns = [
  'quiz_attempts.id',
  'quiz_attempts.quiz_id',
  'quiz_attempts.student_id',
  'quiz_attempts.score',
  'quiz_attempts.passed',
  'quiz_attempts.points',
  'quiz_attempts.max_points',
  'quiz_attempts.results',
  'quiz_attempts.submitted_at',
  'users.username',
  'users.first_name',
  'users.last_name',
  'users.bio',
  'users.profile_image',
] as const;

export function findAttempt(db: Executor, id: number) {
  return db
    .selectFrom('quiz_attempts')
    .innerJoin('users', 'users.id', 'quiz_attempts.student_id')
    .select(attemptColumns)
    .where('quiz_attempts.id', '=', id)
    .executeTakeFirstOrThrow();
}
export type AttemptRow = Awaited<ReturnType<typeof findAttempt>>;

/** Attempts of a quiz, newest first (ties: ascending id), optionally of one student. */
export function listAttempts(db: Executor, quizId: number, studentId: number | undefined) {
  let query = db
    .selectFrom('quiz_attempts')
    .innerJoin('users', 'users.id', 'quiz_attempts.student_id')
    .select(attemptColumns)
    .where('quiz_attempts.quiz_id', '=', quizId);
  if (studentId !== undefined) query = query.where('quiz_attempts.student_id', '=', studentId);
  return listQuery(query.orderBy('quiz_attempts.submitted_at', 'desc').orderBy('quiz_attempts.id', 'asc'));
}

/** A student's attempts with their quiz's lesson, for their personal data export. */
export function attemptsOfStudentForExport(db: Executor, studentId: number) {
  return db
    .selectFrom('quiz_attempts as a')
    .innerJoin('quizzes as q', 'q.id', 'a.quiz_id')
    .select([
      'a.id',
      'a.quiz_id',
      'q.lesson_id',
      'a.attempt_number',
      'a.score',
      'a.passed',
      'a.points',
      'a.max_points',
      'a.answers',
      'a.submitted_at',
    ])
    .where('a.student_id', '=', studentId)
    .orderBy('a.submitted_at', 'desc')
    .execute();
}

export async function deleteAttemptsOfStudent(db: Executor, studentId: number): Promise<void> {
  await db.deleteFrom('quiz_attempts').where('student_id', '=', studentId).execute();
}
