import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { caseKey } from '../../shared/text-key.js';

/**
 * Case-insensitive uniqueness of usernames, emails and category names by a key the
 * application computes (shared/text-key.ts), replacing lower() indexes that fold ASCII only
 * on SQLite and differently from JavaScript on PostgreSQL.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const any = db as Kysely<Record<string, Record<string, unknown>>>;
  await db.schema.alterTable('users').addColumn('username_key', 'text').execute();
  await db.schema.alterTable('users').addColumn('email_key', 'text').execute();
  await db.schema.alterTable('categories').addColumn('name_key', 'text').execute();
  const users = (await any.selectFrom('users').select(['id', 'username', 'email']).execute()) as {
    id: number;
    username: string;
    email: string;
  }[];
  for (const user of users) {
    await any
      .updateTable('users')
      .set({ username_key: caseKey(user.username), email_key: caseKey(user.email) })
      .where('id', '=', user.id)
      .execute();
  }
  const categories = (await any.selectFrom('categories').select(['id', 'name']).execute()) as { id: number; name: string }[];
  for (const category of categories) {
    await any
      .updateTable('categories')
      .set({ name_key: caseKey(category.name) })
      .where('id', '=', category.id)
      .execute();
  }
  await db.schema.dropIndex('users_username_ci').execute();
  await db.schema.dropIndex('users_email_ci').execute();
  await db.schema.dropIndex('categories_name_ci').execute();
  await db.schema.createIndex('users_username_key').unique().on('users').column('username_key').execute();
  await db.schema.createIndex('users_email_key').unique().on('users').column('email_key').execute();
  await db.schema.createIndex('categories_name_key').unique().on('categories').column('name_key').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('categories_name_key').execute();
  await db.schema.dropIndex('users_email_key').execute();
  await db.schema.dropIndex('users_username_key').execute();
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
  await db.schema
    .createIndex('categories_name_ci')
    .unique()
    .on('categories')
    .expression(sql`lower(name)`)
    .execute();
  await db.schema.alterTable('categories').dropColumn('name_key').execute();
  await db.schema.alterTable('users').dropColumn('email_key').execute();
  await db.schema.alterTable('users').dropColumn('username_key').execute();
}
