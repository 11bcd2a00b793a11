import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { columnTypes, withId } from './helpers.js';

/**
 * Quizzes (one per lesson; questions and choices replaced as a whole), attempts (graded
 * snapshots that outlive a replaced quiz) and certificates (kept after unenrolling, so they
 * hang on the student and the course, not on the enrollment).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp, real } = columnTypes(db);

  await withId(db, db.schema.createTable('quizzes'))
    .addColumn('lesson_id', 'integer', (c) => c.notNull().unique().references('lessons.id').onDelete('cascade'))
    .addColumn('pass_mark', 'integer', (c) => c.notNull().check(sql`pass_mark between 0 and 100`))
    .addColumn('max_attempts', 'integer', (c) => c.check(sql`max_attempts > 0`))
    .addColumn('reveal_answers', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .execute();

  await withId(db, db.schema.createTable('quiz_questions'))
    .addColumn('quiz_id', 'integer', (c) => c.notNull().references('quizzes.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('prompt', 'text', (c) => c.notNull())
    .addColumn('points', 'integer', (c) => c.notNull().check(sql`points > 0`))
    // JSON array of strings (short_text only; [] otherwise).
    .addColumn('accepted_answers', 'text', (c) => c.notNull())
    .addColumn('explanation', 'text', (c) => c.notNull())
    .addUniqueConstraint('quiz_questions_quiz_position', ['quiz_id', 'position'])
    .execute();

  await withId(db, db.schema.createTable('quiz_choices'))
    .addColumn('question_id', 'integer', (c) => c.notNull().references('quiz_questions.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('correct', 'boolean', (c) => c.notNull())
    .addUniqueConstraint('quiz_choices_question_position', ['question_id', 'position'])
    .execute();

  await withId(db, db.schema.createTable('quiz_attempts'))
    .addColumn('quiz_id', 'integer', (c) => c.notNull().references('quizzes.id').onDelete('cascade'))
    .addColumn('student_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // 1, 2, …: with the unique constraint, concurrent submissions can never exceed max_attempts.
    .addColumn('attempt_number', 'integer', (c) => c.notNull())
    .addColumn('score', real, (c) => c.notNull())
    .addColumn('passed', 'boolean', (c) => c.notNull())
    .addColumn('points', 'integer', (c) => c.notNull())
    .addColumn('max_points', 'integer', (c) => c.notNull())
    // JSON: the answers as submitted, and the graded results with what was correct then.
    .addColumn('answers', 'text', (c) => c.notNull())
    .addColumn('results', 'text', (c) => c.notNull())
    .addColumn('submitted_at', timestamp, (c) => c.notNull())
    .addUniqueConstraint('quiz_attempts_quiz_student_number', ['quiz_id', 'student_id', 'attempt_number'])
    .execute();
  await db.schema.createIndex('quiz_attempts_quiz_submitted').on('quiz_attempts').columns(['quiz_id', 'submitted_at']).execute();

  await withId(db, db.schema.createTable('certificates'))
    .addColumn('code', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('course_id', 'integer', (c) => c.notNull().references('courses.id').onDelete('cascade'))
    .addColumn('student_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('issued_at', timestamp, (c) => c.notNull())
    .addColumn('revoked_at', timestamp)
    // One per student and course: a completion racing another, or a re-enrollment, never issues a second.
    .addUniqueConstraint('certificates_course_student', ['course_id', 'student_id'])
    .execute();
  await db.schema.createIndex('certificates_student_issued').on('certificates').columns(['student_id', 'issued_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['certificates', 'quiz_attempts', 'quiz_choices', 'quiz_questions', 'quizzes']) {
    await db.schema.dropTable(table).execute();
  }
}
