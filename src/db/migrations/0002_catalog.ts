import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { dialectOf } from '../index.js';

/**
 * The catalog: a published-courses counter on categories, one composite index per filter and
 * ordering of the course list (every one starts with is_published, the column every public
 * read filters on), and the full-text index that search uses.
 */

/** The orderings of the course list, as index key expressions. */
const ORDER_KEYS = {
  created: 'created_at',
  updated: 'updated_at',
  price: 'price_cents',
  title: 'lower(title)',
  rating: 'average_rating',
  students: 'students_count',
  reviews: 'reviews_count',
} as const;

/**
 * Everything up to the first letter or digit of a word is punctuation to SQLite's unicode61
 * tokenizer; PostgreSQL's parser instead keeps `node.js`, `a/b` or `x@y.z` whole. Turning
 * ASCII punctuation into spaces first makes both split words the same way.
 */
const ASCII_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';

  await db.schema
    .alterTable('categories')
    .addColumn('courses_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  if (postgres) await countPublishedPostgres(db);
  else await countPublishedSqlite(db);
  await sql`update categories set courses_count = (
    select count(*) from courses where courses.category_id = categories.id and courses.is_published = ${sql.lit(true)}
  )`.execute(db);

  // The initial migration's (is_published, created_at, id) index serves the default ordering.
  for (const [name, key] of Object.entries(ORDER_KEYS)) {
    if (name !== 'created')
      await sql`create index ${sql.id(`courses_published_${name}`)} on courses (is_published, ${sql.raw(indexKey(key, postgres))}, id)`.execute(
        db,
      );
    await sql`create index ${sql.id(`courses_published_category_${name}`)} on courses (is_published, category_id, ${sql.raw(indexKey(key, postgres))}, id)`.execute(
      db,
    );
  }
  await db.schema
    .createIndex('courses_published_instructor')
    .on('courses')
    .columns(['is_published', 'instructor_id', 'created_at', 'id'])
    .execute();

  if (postgres) await createPostgresSearch(db);
  else await createSqliteSearch(db);
}

/** PostgreSQL sorts NULL last by default; ratings sort it first, as SQLite does, in both directions of the index. */
const indexKey = (key: string, postgres: boolean) => (postgres && key === 'average_rating' ? `${key} nulls first` : key);

/**
 * categories.courses_count follows every insert, delete, publish toggle and category move of a
 * course, whoever writes it, in the writing statement: no read-modify-write race, and the
 * category list and the unfiltered catalog count never scan courses.
 */
async function countPublishedSqlite(db: Kysely<unknown>): Promise<void> {
  await sql`create trigger categories_count_insert after insert on courses when new.is_published begin
    update categories set courses_count = courses_count + 1 where id = new.category_id;
  end`.execute(db);
  await sql`create trigger categories_count_delete after delete on courses when old.is_published begin
    update categories set courses_count = courses_count - 1 where id = old.category_id;
  end`.execute(db);
  await sql`create trigger categories_count_update after update of is_published, category_id on courses
    when old.is_published or new.is_published begin
    update categories set courses_count = courses_count - 1 where old.is_published and id = old.category_id;
    update categories set courses_count = courses_count + 1 where new.is_published and id = new.category_id;
  end`.execute(db);
}

async function countPublishedPostgres(db: Kysely<unknown>): Promise<void> {
  await sql`create function categories_count_courses() returns trigger language plpgsql as $$
    begin
      if tg_op <> 'INSERT' and old.is_published then
        update categories set courses_count = courses_count - 1 where id = old.category_id;
      end if;
      if tg_op <> 'DELETE' and new.is_published then
        update categories set courses_count = courses_count + 1 where id = new.category_id;
      end if;
      return null;
    end $$`.execute(db);
  await sql`create trigger categories_count_courses after insert or delete or update of is_published, category_id
    on courses for each row execute function categories_count_courses()`.execute(db);
}

async function createSqliteSearch(db: Kysely<unknown>): Promise<void> {
  // Contentless: the text lives in courses, categories and users; the index keeps only terms.
  await sql`create virtual table courses_fts using fts5(
    title, description, category, instructor,
    content='', contentless_delete=1,
    tokenize='unicode61 remove_diacritics 0', prefix='2 3'
  )`.execute(db);
  const document = (course: string, category: string, instructor: string) =>
    sql.raw(`
    select ${course}.id, ${course}.title, ${course}.description, ${category}, ${instructor}`);
  const lookups = (course: string) => ({
    category: `(select name from categories where id = ${course}.category_id)`,
    instructor: `(select username from users where id = ${course}.instructor_id)`,
  });
  const fresh = lookups('new');
  await sql`create trigger courses_fts_insert after insert on courses begin
    insert into courses_fts (rowid, title, description, category, instructor) ${document('new', fresh.category, fresh.instructor)};
  end`.execute(db);
  await sql`create trigger courses_fts_update after update of title, description, category_id, instructor_id on courses begin
    delete from courses_fts where rowid = old.id;
    insert into courses_fts (rowid, title, description, category, instructor) ${document('new', fresh.category, fresh.instructor)};
  end`.execute(db);
  await sql`create trigger courses_fts_delete after delete on courses begin
    delete from courses_fts where rowid = old.id;
  end`.execute(db);
  await sql`create trigger categories_fts_rename after update of name on categories when new.name is not old.name begin
    delete from courses_fts where rowid in (select id from courses where category_id = new.id);
    insert into courses_fts (rowid, title, description, category, instructor)
      select c.id, c.title, c.description, new.name, u.username from courses c join users u on u.id = c.instructor_id where c.category_id = new.id;
  end`.execute(db);
  await sql`create trigger users_fts_rename after update of username on users when new.username is not old.username begin
    delete from courses_fts where rowid in (select id from courses where instructor_id = new.id);
    insert into courses_fts (rowid, title, description, category, instructor)
      select c.id, c.title, c.description, cat.name, new.username from courses c join categories cat on cat.id = c.category_id where c.instructor_id = new.id;
  end`.execute(db);
  await sql`insert into courses_fts (rowid, title, description, category, instructor)
    select c.id, c.title, c.description, cat.name, u.username
    from courses c join categories cat on cat.id = c.category_id join users u on u.id = c.instructor_id`.execute(db);
}

async function createPostgresSearch(db: Kysely<unknown>): Promise<void> {
  const punctuation = sql.lit(ASCII_PUNCTUATION);
  const spaces = sql.lit(' '.repeat(ASCII_PUNCTUATION.length));
  // Weights rank a title hit above a category, an instructor, then a description hit.
  await sql`create function course_search_document(title text, description text, category text, instructor text)
    returns tsvector language sql immutable parallel safe as $$
      select setweight(to_tsvector('simple', translate(title, ${punctuation}, ${spaces})), 'A')
        || setweight(to_tsvector('simple', translate(coalesce(category, ''), ${punctuation}, ${spaces})), 'B')
        || setweight(to_tsvector('simple', translate(coalesce(instructor, ''), ${punctuation}, ${spaces})), 'C')
        || setweight(to_tsvector('simple', translate(description, ${punctuation}, ${spaces})), 'D')
    $$`.execute(db);
  await sql`alter table courses add column search_vector tsvector not null default ''::tsvector`.execute(db);
  await sql`create function courses_search_refresh() returns trigger language plpgsql as $$
    begin
      new.search_vector := course_search_document(new.title, new.description,
        (select name from categories where id = new.category_id),
        (select username from users where id = new.instructor_id));
      return new;
    end $$`.execute(db);
  await sql`create trigger courses_search_refresh before insert or update of title, description, category_id, instructor_id
    on courses for each row execute function courses_search_refresh()`.execute(db);
  await sql`create function categories_search_rename() returns trigger language plpgsql as $$
    begin
      update courses c set search_vector = course_search_document(c.title, c.description, new.name, u.username)
        from users u where u.id = c.instructor_id and c.category_id = new.id;
      return null;
    end $$`.execute(db);
  await sql`create trigger categories_search_rename after update of name on categories
    for each row when (old.name is distinct from new.name) execute function categories_search_rename()`.execute(db);
  await sql`create function users_search_rename() returns trigger language plpgsql as $$
    begin
      update courses c set search_vector = course_search_document(c.title, c.description, cat.name, new.username)
        from categories cat where cat.id = c.category_id and c.instructor_id = new.id;
      return null;
    end $$`.execute(db);
  await sql`create trigger users_search_rename after update of username on users
    for each row when (old.username is distinct from new.username) execute function users_search_rename()`.execute(db);
  await sql`update courses c set search_vector = course_search_document(c.title, c.description, cat.name, u.username)
    from categories cat, users u where cat.id = c.category_id and u.id = c.instructor_id`.execute(db);
  await sql`create index courses_search on courses using gin (search_vector)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  if (postgres) {
    await sql`drop trigger users_search_rename on users`.execute(db);
    await sql`drop trigger categories_search_rename on categories`.execute(db);
    await sql`drop trigger courses_search_refresh on courses`.execute(db);
    await sql`drop function users_search_rename(), categories_search_rename(), courses_search_refresh()`.execute(db);
    await sql`alter table courses drop column search_vector`.execute(db);
    await sql`drop function course_search_document(text, text, text, text)`.execute(db);
    await sql`drop trigger categories_count_courses on courses`.execute(db);
    await sql`drop function categories_count_courses()`.execute(db);
  } else {
    for (const trigger of [
      'categories_count_insert',
      'categories_count_delete',
      'categories_count_update',
      'users_fts_rename',
      'categories_fts_rename',
      'courses_fts_delete',
      'courses_fts_update',
      'courses_fts_insert',
    ]) {
      await sql`drop trigger ${sql.id(trigger)}`.execute(db);
    }
    await sql`drop table courses_fts`.execute(db);
  }
  await db.schema.dropIndex('courses_published_instructor').execute();
  for (const name of Object.keys(ORDER_KEYS)) {
    if (name !== 'created') await db.schema.dropIndex(`courses_published_${name}`).execute();
    await db.schema.dropIndex(`courses_published_category_${name}`).execute();
  }
  await db.schema.alterTable('categories').dropColumn('courses_count').execute();
}
