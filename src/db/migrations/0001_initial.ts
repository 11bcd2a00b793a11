import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { columnTypes, withId } from './helpers.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp, real } = columnTypes(db);

  await withId(db, db.schema.createTable('users'))
    .addColumn('username', 'varchar(150)', (c) => c.notNull())
    .addColumn('email', 'varchar(254)', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('first_name', 'varchar(150)', (c) => c.notNull().defaultTo(''))
    .addColumn('last_name', 'varchar(150)', (c) => c.notNull().defaultTo(''))
    .addColumn('bio', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('profile_image', 'text')
    .addColumn('role', 'varchar(20)', (c) => c.notNull().check(sql`role in ('student', 'instructor', 'admin')`))
    .addColumn('instructor_status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('none')
        .check(sql`instructor_status in ('none', 'pending', 'approved', 'rejected')`),
    )
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('date_joined', timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('users_username_ci')
    .unique()
    .on('users')
    .expression(sql`lower(username)`)
    .execute();
  await db.schema
    .createIndex('users_email_ci')
    .unique()
    .on('users')
    .expression(sql`lower(email)`)
    .execute();
  await db.schema.createIndex('users_date_joined').on('users').columns(['date_joined', 'id']).execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('refresh_jti', 'varchar(36)', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .addColumn('revoked_at', timestamp)
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
  await db.schema.createIndex('sessions_revoked_at').on('sessions').column('revoked_at').execute();

  await withId(db, db.schema.createTable('categories'))
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('slug', 'varchar(120)', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .createIndex('categories_name_ci')
    .unique()
    .on('categories')
    .expression(sql`lower(name)`)
    .execute();

  await withId(db, db.schema.createTable('courses'))
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('price_cents', 'bigint', (c) => c.notNull().check(sql`price_cents >= 0`))
    .addColumn('category_id', 'integer', (c) => c.notNull().references('categories.id').onDelete('restrict'))
    .addColumn('instructor_id', 'integer', (c) => c.notNull().references('users.id').onDelete('restrict'))
    .addColumn('thumbnail', 'text')
    .addColumn('is_published', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('reviews_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rating_sum', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('average_rating', real)
    .addColumn('students_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lessons_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('total_duration', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('courses_category').on('courses').column('category_id').execute();
  await db.schema.createIndex('courses_instructor').on('courses').columns(['instructor_id', 'created_at']).execute();
  await db.schema.createIndex('courses_published_created').on('courses').columns(['is_published', 'created_at', 'id']).execute();

  await withId(db, db.schema.createTable('lessons'))
    .addColumn('course_id', 'integer', (c) => c.notNull().references('courses.id').onDelete('cascade'))
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('position', 'integer', (c) => c.notNull().check(sql`position > 0`))
    .addColumn('duration', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`duration >= 0`),
    )
    .addColumn('is_preview', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('video', 'text')
    .addColumn('attachment', 'text')
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addUniqueConstraint('lessons_course_position', ['course_id', 'position'])
    .execute();

  await withId(db, db.schema.createTable('enrollments'))
    .addColumn('student_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('course_id', 'integer', (c) => c.notNull().references('courses.id').onDelete('cascade'))
    .addColumn('enrolled_on', timestamp, (c) => c.notNull())
    .addColumn('completed_lessons', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('progress', real, (c) => c.notNull().defaultTo(0))
    .addColumn('completed_at', timestamp)
    .addUniqueConstraint('enrollments_student_course', ['student_id', 'course_id'])
    .execute();
  await db.schema.createIndex('enrollments_course').on('enrollments').columns(['course_id', 'enrolled_on']).execute();
  await db.schema.createIndex('enrollments_student_enrolled').on('enrollments').columns(['student_id', 'enrolled_on']).execute();

  await withId(db, db.schema.createTable('lesson_completions'))
    .addColumn('enrollment_id', 'integer', (c) => c.notNull().references('enrollments.id').onDelete('cascade'))
    .addColumn('lesson_id', 'integer', (c) => c.notNull().references('lessons.id').onDelete('cascade'))
    .addColumn('completed_at', timestamp, (c) => c.notNull())
    .addUniqueConstraint('lesson_completions_enrollment_lesson', ['enrollment_id', 'lesson_id'])
    .execute();
  await db.schema.createIndex('lesson_completions_lesson').on('lesson_completions').column('lesson_id').execute();

  await withId(db, db.schema.createTable('reviews'))
    .addColumn('course_id', 'integer', (c) => c.notNull().references('courses.id').onDelete('cascade'))
    .addColumn('student_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('rating', 'integer', (c) => c.notNull().check(sql`rating between 1 and 5`))
    .addColumn('comment', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addUniqueConstraint('reviews_course_student', ['course_id', 'student_id'])
    .execute();
  await db.schema.createIndex('reviews_course_created').on('reviews').columns(['course_id', 'created_at']).execute();
  await db.schema.createIndex('reviews_student').on('reviews').column('student_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['reviews', 'lesson_completions', 'enrollments', 'lessons', 'courses', 'categories', 'sessions', 'users']) {
    await db.schema.dropTable(table).execute();
  }
}
