import type { Kysely } from 'kysely';
import { columnTypes, withId } from './helpers.js';

/**
 * The transactional outbox of domain events (written in the transaction of the change they
 * describe; the webhooks module delivers them) and the append-only audit log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);

  await db.schema
    .createTable('events')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('type', 'varchar(40)', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    // The course the event concerns, if any: an instructor's endpoints receive their courses' events.
    .addColumn('course_id', 'integer')
    .addColumn('created_at', timestamp, (c) => c.notNull())
    // Set once the event has been fanned out to the endpoints subscribed at that time.
    .addColumn('dispatched_at', timestamp)
    .execute();
  await db.schema.createIndex('events_undispatched').on('events').columns(['dispatched_at', 'created_at']).execute();

  await withId(db, db.schema.createTable('audit_log'))
    .addColumn('actor_id', 'integer')
    .addColumn('action', 'varchar(40)', (c) => c.notNull())
    .addColumn('target_type', 'varchar(40)', (c) => c.notNull())
    .addColumn('target_id', 'integer')
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('ip', 'varchar(64)', (c) => c.notNull().defaultTo(''))
    .addColumn('request_id', 'varchar(128)', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_created').on('audit_log').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('audit_log_target').on('audit_log').columns(['target_type', 'target_id']).execute();
  await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_log').execute();
  await db.schema.dropTable('events').execute();
}
