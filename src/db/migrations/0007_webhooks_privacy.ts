import type { Kysely } from 'kysely';
import { columnTypes, withId } from './helpers.js';

/**
 * Webhook endpoints and their deliveries (the outbox's events fanned out, one row per
 * endpoint and event, sent by the delivery worker), and the client address of a session
 * (for the personal data export).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);

  await withId(db, db.schema.createTable('webhook_endpoints'))
    .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('url', 'varchar(2000)', (c) => c.notNull())
    // JSON list of event types, or ["*"].
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('secret', 'varchar(100)', (c) => c.notNull())
    .addColumn('is_active', 'boolean', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_endpoints_owner').on('webhook_endpoints').columns(['owner_id', 'id']).execute();

  await withId(db, db.schema.createTable('webhook_deliveries'))
    .addColumn('endpoint_id', 'integer', (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
    .addColumn('event_id', 'varchar(40)', (c) => c.notNull().references('events.id'))
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'varchar(500)')
    .addColumn('next_attempt_at', timestamp, (c) => c.notNull())
    // The lease of the instance attempting it now: a crashed instance's claim expires.
    .addColumn('locked_until', timestamp)
    .addColumn('claim', 'varchar(40)')
    .addColumn('delivered_at', timestamp)
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();
  // One delivery per endpoint and event: the dispatcher may run twice over an event.
  await db.schema.createIndex('webhook_deliveries_unique').on('webhook_deliveries').columns(['endpoint_id', 'event_id']).unique().execute();
  await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('webhook_deliveries_list').on('webhook_deliveries').columns(['endpoint_id', 'created_at']).execute();

  await db.schema
    .alterTable('sessions')
    .addColumn('ip', 'varchar(64)', (c) => c.notNull().defaultTo(''))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('ip').execute();
  await db.schema.dropTable('webhook_deliveries').execute();
  await db.schema.dropTable('webhook_endpoints').execute();
}
