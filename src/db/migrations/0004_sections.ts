import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { columnTypes, withId } from './helpers.js';

/**
 * The learner's path: sections (labelled runs of a course's lessons), the course's
 * `sequential` flag, each lesson's section, and where each student stopped in each lesson
 * (lesson_positions: one small row per enrollment and lesson, written by the heartbeat).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp, real } = columnTypes(db);

  await withId(db, db.schema.createTable('sections'))
    .addColumn('course_id', 'integer', (c) => c.notNull().references('courses.id').onDelete('cascade'))
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    // The API's `order`, as for lessons.
    .addColumn('position', 'integer', (c) => c.notNull().check(sql`position > 0`))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addUniqueConstraint('sections_course_position', ['course_id', 'position'])
    .execute();

  // A deleted section leaves its lessons in the course, without a section.
  await db.schema
    .alterTable('lessons')
    .addColumn('section_id', 'integer', (c) => c.references('sections.id').onDelete('set null'))
    .execute();
  await db.schema.createIndex('lessons_section').on('lessons').column('section_id').execute();

  await db.schema
    .alterTable('courses')
    .addColumn('sequential', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();

  await withId(db, db.schema.createTable('lesson_positions'))
    .addColumn('enrollment_id', 'integer', (c) => c.notNull().references('enrollments.id').onDelete('cascade'))
    .addColumn('lesson_id', 'integer', (c) => c.notNull().references('lessons.id').onDelete('cascade'))
    .addColumn('position', real, (c) => c.notNull().check(sql`position >= 0`))
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addUniqueConstraint('lesson_positions_enrollment_lesson', ['enrollment_id', 'lesson_id'])
    .execute();
  await db.schema.createIndex('lesson_positions_lesson').on('lesson_positions').column('lesson_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('lesson_positions').execute();
  await db.schema.dropIndex('lessons_section').execute();
  await db.schema.alterTable('lessons').dropColumn('section_id').execute();
  await db.schema.alterTable('courses').dropColumn('sequential').execute();
  await db.schema.dropTable('sections').execute();
}
