import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { columnTypes, withId } from './helpers.js';

/**
 * Review moderation (hidden reviews, the owner's reply, reports) and the counters behind
 * instructor analytics.
 *
 * Analytics counters are kept by the database in the statement that changes their source
 * rows, whoever writes them (the services, the CLI, a bulk insert), so every figure equals
 * the rows at that moment:
 * - `course_enrollment_days`: per course and UTC day of enrollment, the enrollments made
 *   that day and, of those, how many have completed and the sum of their progress in
 *   hundredths (an exact integer). Totals of a course are the sum of its days (a few
 *   hundred rows at most), the by-day chart a range of them. A completion touches only the
 *   row of its enrollment's day, so concurrent completions rarely wait on each other.
 * - `lesson_completion_counts`: completions per lesson.
 * Enrollments never change course or enrollment day once written (nothing updates them).
 * PostgreSQL runs one statement-level trigger per statement (transition tables), so a
 * course-wide progress recount updates each day row once, not once per enrollment.
 * - `courses.ratings_1` … `ratings_5`: visible reviews per rating, recounted with
 *   `reviews_count` under the course lock (reviews/repository.ts refreshCourseRating).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp, postgres } = columnTypes(db);

  await db.schema
    .alterTable('reviews')
    .addColumn('is_hidden', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema.alterTable('reviews').addColumn('reply_text', 'text').execute();
  await db.schema.alterTable('reviews').addColumn('reply_created_at', timestamp).execute();
  await db.schema.alterTable('reviews').addColumn('reply_updated_at', timestamp).execute();
  // The rating recount: visible reviews of one course by rating, from the index alone.
  await db.schema.createIndex('reviews_course_visible_rating').on('reviews').columns(['course_id', 'is_hidden', 'rating']).execute();

  for (const rating of [1, 2, 3, 4, 5]) {
    await db.schema
      .alterTable('courses')
      .addColumn(`ratings_${rating}`, 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  }
  await sql`update courses set
    ratings_1 = (select count(*) from reviews r where r.course_id = courses.id and r.rating = 1),
    ratings_2 = (select count(*) from reviews r where r.course_id = courses.id and r.rating = 2),
    ratings_3 = (select count(*) from reviews r where r.course_id = courses.id and r.rating = 3),
    ratings_4 = (select count(*) from reviews r where r.course_id = courses.id and r.rating = 4),
    ratings_5 = (select count(*) from reviews r where r.course_id = courses.id and r.rating = 5)`.execute(db);

  await withId(db, db.schema.createTable('review_reports'))
    .addColumn('review_id', 'integer', (c) => c.notNull().references('reviews.id').onDelete('cascade'))
    .addColumn('reporter_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('resolved', 'boolean', (c) => c.notNull().defaultTo(false))
    .addUniqueConstraint('review_reports_review_reporter', ['review_id', 'reporter_id'])
    .execute();
  await db.schema.createIndex('review_reports_created').on('review_reports').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('review_reports_resolved_created').on('review_reports').columns(['resolved', 'created_at', 'id']).execute();
  await db.schema.createIndex('review_reports_reporter').on('review_reports').column('reporter_id').execute();

  await db.schema
    .createTable('course_enrollment_days')
    .addColumn('course_id', 'integer', (c) => c.notNull().references('courses.id').onDelete('cascade'))
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('enrollments', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('completed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('progress_sum', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('course_enrollment_days_pk', ['course_id', 'day'])
    .execute();
  await db.schema.createIndex('course_enrollment_days_day').on('course_enrollment_days').columns(['day', 'course_id']).execute();

  await db.schema
    .createTable('lesson_completion_counts')
    .addColumn('lesson_id', 'integer', (c) => c.primaryKey().references('lessons.id').onDelete('cascade'))
    .addColumn('completed', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  if (postgres) await countersPostgres(db);
  else await countersSqlite(db);

  const day = postgres ? sql`to_char(enrolled_on at time zone 'UTC', 'YYYY-MM-DD')` : sql`substr(enrolled_on, 1, 10)`;
  const hundredths = postgres ? sql`round(progress * 100)::bigint` : sql`cast(round(progress * 100) as integer)`;
  await sql`insert into course_enrollment_days (course_id, day, enrollments, completed, progress_sum)
    select course_id, ${day}, count(*), count(completed_at), sum(${hundredths}) from enrollments group by course_id, ${day}`.execute(db);
  await sql`insert into lesson_completion_counts (lesson_id, completed)
    select lesson_id, count(*) from lesson_completions group by lesson_id`.execute(db);
}

async function countersSqlite(db: Kysely<unknown>): Promise<void> {
  const day = (row: string) => `substr(${row}.enrolled_on, 1, 10)`;
  const hundredths = (row: string) => `cast(round(${row}.progress * 100) as integer)`;
  await sql`create trigger course_enrollment_days_insert after insert on enrollments begin
    insert into course_enrollment_days (course_id, day, enrollments, completed, progress_sum)
      values (new.course_id, ${sql.raw(day('new'))}, 1, new.completed_at is not null, ${sql.raw(hundredths('new'))})
      on conflict (course_id, day) do update set
        enrollments = enrollments + 1,
        completed = completed + excluded.completed,
        progress_sum = progress_sum + excluded.progress_sum;
  end`.execute(db);
  await sql`create trigger course_enrollment_days_delete after delete on enrollments begin
    update course_enrollment_days set
      enrollments = enrollments - 1,
      completed = completed - (old.completed_at is not null),
      progress_sum = progress_sum - ${sql.raw(hundredths('old'))}
    where course_id = old.course_id and day = ${sql.raw(day('old'))};
  end`.execute(db);
  await sql`create trigger course_enrollment_days_update after update of progress, completed_at on enrollments
    when old.progress is not new.progress or (old.completed_at is null) <> (new.completed_at is null) begin
    update course_enrollment_days set
      completed = completed + (new.completed_at is not null) - (old.completed_at is not null),
      progress_sum = progress_sum + ${sql.raw(hundredths('new'))} - ${sql.raw(hundredths('old'))}
    where course_id = new.course_id and day = ${sql.raw(day('new'))};
  end`.execute(db);
  await sql`create trigger lesson_completion_counts_insert after insert on lesson_completions begin
    insert into lesson_completion_counts (lesson_id, completed) values (new.lesson_id, 1)
      on conflict (lesson_id) do update set completed = completed + 1;
  end`.execute(db);
  await sql`create trigger lesson_completion_counts_delete after delete on lesson_completions begin
    update lesson_completion_counts set completed = completed - 1 where lesson_id = old.lesson_id;
  end`.execute(db);
}

async function countersPostgres(db: Kysely<unknown>): Promise<void> {
  const day = (row: string) => `to_char(${row}.enrolled_on at time zone 'UTC', 'YYYY-MM-DD')`;
  const hundredths = (row: string) => `round(${row}.progress * 100)::bigint`;
  await sql`create function course_enrollment_days_insert() returns trigger language plpgsql as $$
    begin
      insert into course_enrollment_days (course_id, day, enrollments, completed, progress_sum)
        select n.course_id, ${sql.raw(day('n'))}, count(*), count(n.completed_at), sum(${sql.raw(hundredths('n'))})
        from new_rows n group by 1, 2
        on conflict (course_id, day) do update set
          enrollments = course_enrollment_days.enrollments + excluded.enrollments,
          completed = course_enrollment_days.completed + excluded.completed,
          progress_sum = course_enrollment_days.progress_sum + excluded.progress_sum;
      return null;
    end $$`.execute(db);
  await sql`create function course_enrollment_days_delete() returns trigger language plpgsql as $$
    begin
      update course_enrollment_days d set
        enrollments = d.enrollments - x.enrollments, completed = d.completed - x.completed, progress_sum = d.progress_sum - x.progress_sum
      from (select o.course_id, ${sql.raw(day('o'))} as day, count(*) as enrollments, count(o.completed_at) as completed,
              sum(${sql.raw(hundredths('o'))}) as progress_sum
            from old_rows o group by 1, 2) x
      where d.course_id = x.course_id and d.day = x.day;
      return null;
    end $$`.execute(db);
  await sql`create function course_enrollment_days_update() returns trigger language plpgsql as $$
    begin
      update course_enrollment_days d set completed = d.completed + x.completed, progress_sum = d.progress_sum + x.progress_sum
      from (select n.course_id, ${sql.raw(day('n'))} as day,
              sum((n.completed_at is not null)::int - (o.completed_at is not null)::int) as completed,
              sum(${sql.raw(hundredths('n'))} - ${sql.raw(hundredths('o'))}) as progress_sum
            from new_rows n join old_rows o on o.id = n.id
            where n.progress is distinct from o.progress or (n.completed_at is null) <> (o.completed_at is null)
            group by 1, 2) x
      where d.course_id = x.course_id and d.day = x.day;
      return null;
    end $$`.execute(db);
  await sql`create trigger course_enrollment_days_insert after insert on enrollments
    referencing new table as new_rows for each statement execute function course_enrollment_days_insert()`.execute(db);
  await sql`create trigger course_enrollment_days_delete after delete on enrollments
    referencing old table as old_rows for each statement execute function course_enrollment_days_delete()`.execute(db);
  await sql`create trigger course_enrollment_days_update after update on enrollments
    referencing old table as old_rows new table as new_rows for each statement execute function course_enrollment_days_update()`.execute(
    db,
  );

  await sql`create function lesson_completion_counts_insert() returns trigger language plpgsql as $$
    begin
      insert into lesson_completion_counts (lesson_id, completed)
        select lesson_id, count(*) from new_rows group by lesson_id
        on conflict (lesson_id) do update set completed = lesson_completion_counts.completed + excluded.completed;
      return null;
    end $$`.execute(db);
  await sql`create function lesson_completion_counts_delete() returns trigger language plpgsql as $$
    begin
      update lesson_completion_counts c set completed = c.completed - x.n
      from (select lesson_id, count(*) as n from old_rows group by lesson_id) x where c.lesson_id = x.lesson_id;
      return null;
    end $$`.execute(db);
  await sql`create trigger lesson_completion_counts_insert after insert on lesson_completions
    referencing new table as new_rows for each statement execute function lesson_completion_counts_insert()`.execute(db);
  await sql`create trigger lesson_completion_counts_delete after delete on lesson_completions
    referencing old table as old_rows for each statement execute function lesson_completion_counts_delete()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const { postgres } = columnTypes(db);
  const triggers: [string, string][] = [
    ['course_enrollment_days_insert', 'enrollments'],
    ['course_enrollment_days_delete', 'enrollments'],
    ['course_enrollment_days_update', 'enrollments'],
    ['lesson_completion_counts_insert', 'lesson_completions'],
    ['lesson_completion_counts_delete', 'lesson_completions'],
  ];
  for (const [name, table] of triggers) {
    if (postgres) {
      await sql`drop trigger ${sql.id(name)} on ${sql.id(table)}`.execute(db);
      await sql`drop function ${sql.id(name)}()`.execute(db);
    } else {
      await sql`drop trigger ${sql.id(name)}`.execute(db);
    }
  }
  await db.schema.dropTable('lesson_completion_counts').execute();
  await db.schema.dropTable('course_enrollment_days').execute();
  await db.schema.dropTable('review_reports').execute();
  for (const rating of [1, 2, 3, 4, 5]) await db.schema.alterTable('courses').dropColumn(`ratings_${rating}`).execute();
  await db.schema.dropIndex('reviews_course_visible_rating').execute();
  for (const column of ['reply_updated_at', 'reply_created_at', 'reply_text', 'is_hidden']) {
    await db.schema.alterTable('reviews').dropColumn(column).execute();
  }
}
