import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { dialectOf } from '../index.js';

/**
 * Search that answers the public catalog from the full-text index alone (issue 11): the
 * exact count of a search and its best matches first, without reading a course row per match.
 *
 * - SQLite: courses_search replaces courses_fts (0002) with one more column, `draft`, holding
 *   the token `draft` for an unpublished course and nothing for a published one. The public
 *   count is `count(*)` over the index (`… NOT draft : draft`), and the ranked ids come from
 *   the index in rowid order, newest first (FTS5 walks its lists in rowid order and stops at
 *   the LIMIT).
 * - PostgreSQL: two partial GIN indexes `where is_published`, one over search_vector and one
 *   over the title alone (course_title_document): a public count needs no heap row (the bitmap
 *   scan skips all-visible pages), and the title hits, which rank first, have their own index.
 */

/** The same ASCII punctuation as 0002: turned into spaces so both databases split words alike. */
const ASCII_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

export async function up(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db) === 'postgres') await upPostgres(db);
  else await upSqlite(db);
}

const OLD_TRIGGERS = ['courses_fts_insert', 'courses_fts_update', 'courses_fts_delete', 'categories_fts_rename', 'users_fts_rename'];
const NEW_TRIGGERS = [
  'courses_search_insert',
  'courses_search_update',
  'courses_search_delete',
  'categories_search_rename',
  'users_search_rename',
];

async function upSqlite(db: Kysely<unknown>): Promise<void> {
  for (const trigger of OLD_TRIGGERS) await sql`drop trigger ${sql.id(trigger)}`.execute(db);
  await sql`drop table courses_fts`.execute(db);
  await sql`create virtual table courses_search using fts5(
    title, description, category, instructor, draft,
    content='', contentless_delete=1,
    tokenize='unicode61 remove_diacritics 0', prefix='2 3'
  )`.execute(db);
  const columns = sql.raw('(rowid, title, description, category, instructor, draft)');
  const draft = (course: string) => sql.raw(`case when ${course}.is_published then '' else 'draft' end`);
  const fresh = sql.raw(
    `(select name from categories where id = new.category_id), (select username from users where id = new.instructor_id)`,
  );
  await sql`create trigger courses_search_insert after insert on courses begin
    insert into courses_search ${columns} select new.id, new.title, new.description, ${fresh}, ${draft('new')};
  end`.execute(db);
  await sql`create trigger courses_search_update after update of title, description, category_id, instructor_id, is_published on courses begin
    delete from courses_search where rowid = old.id;
    insert into courses_search ${columns} select new.id, new.title, new.description, ${fresh}, ${draft('new')};
  end`.execute(db);
  await sql`create trigger courses_search_delete after delete on courses begin
    delete from courses_search where rowid = old.id;
  end`.execute(db);
  await sql`create trigger categories_search_rename after update of name on categories when new.name is not old.name begin
    delete from courses_search where rowid in (select id from courses where category_id = new.id);
    insert into courses_search ${columns}
      select c.id, c.title, c.description, new.name, u.username, ${draft('c')} from courses c join users u on u.id = c.instructor_id where c.category_id = new.id;
  end`.execute(db);
  await sql`create trigger users_search_rename after update of username on users when new.username is not old.username begin
    delete from courses_search where rowid in (select id from courses where instructor_id = new.id);
    insert into courses_search ${columns}
      select c.id, c.title, c.description, cat.name, new.username, ${draft('c')} from courses c join categories cat on cat.id = c.category_id where c.instructor_id = new.id;
  end`.execute(db);
  await sql`insert into courses_search ${columns}
    select c.id, c.title, c.description, cat.name, u.username, ${draft('c')}
    from courses c join categories cat on cat.id = c.category_id join users u on u.id = c.instructor_id`.execute(db);
}

async function upPostgres(db: Kysely<unknown>): Promise<void> {
  const punctuation = sql.lit(ASCII_PUNCTUATION);
  const spaces = sql.lit(' '.repeat(ASCII_PUNCTUATION.length));
  await sql`create function course_title_document(title text) returns tsvector language sql immutable parallel safe as $$
    select to_tsvector('simple', translate(title, ${punctuation}, ${spaces}))
  $$`.execute(db);
  await sql`create index courses_search_published on courses using gin (search_vector) where is_published`.execute(db);
  await sql`create index courses_search_title_published on courses using gin (course_title_document(title)) where is_published`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await sql`drop index courses_search_title_published`.execute(db);
    await sql`drop index courses_search_published`.execute(db);
    await sql`drop function course_title_document(text)`.execute(db);
    return;
  }
  for (const trigger of NEW_TRIGGERS) await sql`drop trigger ${sql.id(trigger)}`.execute(db);
  await sql`drop table courses_search`.execute(db);
  // 0002's index and triggers, as it made them.
  await sql`create virtual table courses_fts using fts5(
    title, description, category, instructor,
    content='', contentless_delete=1,
    tokenize='unicode61 remove_diacritics 0', prefix='2 3'
  )`.execute(db);
  const columns = sql.raw('(rowid, title, description, category, instructor)');
  const fresh = sql.raw(
    `(select name from categories where id = new.category_id), (select username from users where id = new.instructor_id)`,
  );
  await sql`create trigger courses_fts_insert after insert on courses begin
    insert into courses_fts ${columns} select new.id, new.title, new.description, ${fresh};
  end`.execute(db);
  await sql`create trigger courses_fts_update after update of title, description, category_id, instructor_id on courses begin
    delete from courses_fts where rowid = old.id;
    insert into courses_fts ${columns} select new.id, new.title, new.description, ${fresh};
  end`.execute(db);
  await sql`create trigger courses_fts_delete after delete on courses begin
    delete from courses_fts where rowid = old.id;
  end`.execute(db);
  await sql`create trigger categories_fts_rename after update of name on categories when new.name is not old.name begin
    delete from courses_fts where rowid in (select id from courses where category_id = new.id);
    insert into courses_fts ${columns}
      select c.id, c.title, c.description, new.name, u.username from courses c join users u on u.id = c.instructor_id where c.category_id = new.id;
  end`.execute(db);
  await sql`create trigger users_fts_rename after update of username on users when new.username is not old.username begin
    delete from courses_fts where rowid in (select id from courses where instructor_id = new.id);
    insert into courses_fts ${columns}
      select c.id, c.title, c.description, cat.name, new.username from courses c join categories cat on cat.id = c.category_id where c.instructor_id = new.id;
  end`.execute(db);
  await sql`insert into courses_fts ${columns}
    select c.id, c.title, c.description, cat.name, u.username
    from courses c join categories cat on cat.id = c.category_id join users u on u.id = c.instructor_id`.execute(db);
}
