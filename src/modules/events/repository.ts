import type { Insertable, Updateable } from 'kysely';
import { isPostgres } from '../../db/index.js';
import type { Executor } from '../../db/query.js';
import { listQuery } from '../../db/query.js';
import type { EventTable, WebhookDeliveryTable, WebhookEndpointTable } from '../../db/types.js';

export async function insertEvent(db: Executor, event: Insertable<EventTable>): Promise<void> {
  await db.insertInto('events').values(event).execute();
}

// Endpoints

export function insertEndpoint(db: Executor, row: Insertable<WebhookEndpointTable>) {
  return db.insertInto('webhook_endpoints').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findEndpoint(db: Executor, id: number) {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Every endpoint (ownerId null: an admin's view) or one owner's, oldest first. */
export function listEndpoints(db: Executor, ownerId: number | null) {
  let query = db.selectFrom('webhook_endpoints').selectAll();
  if (ownerId !== null) query = query.where('owner_id', '=', ownerId);
  return listQuery(query.orderBy('id', 'asc'));
}

export function updateEndpoint(db: Executor, id: number, changes: Updateable<WebhookEndpointTable>) {
  return db.updateTable('webhook_endpoints').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteEndpoint(db: Executor, id: number): Promise<boolean> {
  const result = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function deleteEndpointsOf(db: Executor, ownerId: number): Promise<void> {
  await db.deleteFrom('webhook_endpoints').where('owner_id', '=', ownerId).execute();
}

// Deliveries as the API lists them

const deliveryColumns = [
  'webhook_deliveries.id',
  'webhook_deliveries.event_id',
  'events.type',
  'webhook_deliveries.status',
  'webhook_deliveries.attempts',
  'webhook_deliveries.last_status_code',
  'webhook_deliveries.last_error',
  'webhook_deliveries.next_attempt_at',
  'webhook_deliveries.delivered_at',
  'webhook_deliveries.created_at',
] as const;

/** Newest first; ties (one dispatch creates several at once) by ascending id. */
export function listDeliveries(db: Executor, endpointId: number) {
  return listQuery(
    db
      .selectFrom('webhook_deliveries')
      .innerJoin('events', 'events.id', 'webhook_deliveries.event_id')
      .select(deliveryColumns)
      .where('webhook_deliveries.endpoint_id', '=', endpointId)
      .orderBy('webhook_deliveries.created_at', 'desc')
      .orderBy('webhook_deliveries.id', 'asc'),
  );
}
export type DeliveryListRow = Awaited<ReturnType<ReturnType<typeof listDeliveries>['rows']>>[number];

export function findDelivery(db: Executor, endpointId: number, id: number) {
  return db
    .selectFrom('webhook_deliveries')
    .innerJoin('events', 'events.id', 'webhook_deliveries.event_id')
    .select(deliveryColumns)
    .where('webhook_deliveries.endpoint_id', '=', endpointId)
    .where('webhook_deliveries.id', '=', id)
    .executeTakeFirst();
}

/** Due now, whatever it was: the next claim picks it up (a claim held by an attempt in flight stays). */
export async function retryDelivery(db: Executor, id: number, now: string): Promise<void> {
  await db.updateTable('webhook_deliveries').set({ status: 'pending', next_attempt_at: now }).where('id', '=', id).execute();
}

// The dispatcher: outbox events → delivery rows

/**
 * The oldest events not yet fanned out. On PostgreSQL locked with SKIP LOCKED, so two
 * instances dispatching at once take different events; the unique (endpoint, event) index
 * makes a second fan-out of one event harmless anyway.
 */
export function undispatchedEvents(trx: Executor, limit: number) {
  const query = undispatchedQuery(trx, limit);
  return (isPostgres(trx) ? query.forUpdate().skipLocked() : query).execute();
}

/** The oldest pending events, read through the partial index `events_pending` (migration 0010). */
export function undispatchedQuery(trx: Executor, limit: number) {
  return trx
    .selectFrom('events')
    .select(['id', 'type', 'course_id'])
    .where('dispatched_at', 'is', null)
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .limit(limit);
}

/** Active endpoints of active owners, with what decides what they receive. */
export function activeEndpoints(trx: Executor) {
  return trx
    .selectFrom('webhook_endpoints')
    .innerJoin('users', 'users.id', 'webhook_endpoints.owner_id')
    .select(['webhook_endpoints.id', 'webhook_endpoints.owner_id', 'webhook_endpoints.events', 'users.role'])
    .where('webhook_endpoints.is_active', '=', true)
    .where('users.is_active', '=', true)
    .execute();
}

export async function courseOwners(trx: Executor, courseIds: number[]): Promise<Map<number, number>> {
  if (courseIds.length === 0) return new Map();
  const rows = await trx.selectFrom('courses').select(['id', 'instructor_id']).where('id', 'in', courseIds).execute();
  return new Map(rows.map((r) => [r.id, r.instructor_id]));
}

export async function insertDeliveries(trx: Executor, rows: Insertable<WebhookDeliveryTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    await trx
      .insertInto('webhook_deliveries')
      .values(rows.slice(i, i + 200))
      .onConflict((oc) => oc.columns(['endpoint_id', 'event_id']).doNothing())
      .execute();
  }
}

export async function markDispatched(trx: Executor, ids: string[], at: string): Promise<void> {
  await trx.updateTable('events').set({ dispatched_at: at }).where('id', 'in', ids).execute();
}

// The worker: claim due deliveries, record each attempt

/** What sending a claimed delivery needs: the delivery, its event and its endpoint. */
const sendColumns = [
  'events.id as event_id',
  'events.type',
  'events.data',
  'events.created_at as event_created_at',
  'webhook_endpoints.url',
  'webhook_endpoints.secret',
] as const;

/**
 * Claims up to `limit` due deliveries of active endpoints for this instance until
 * `lockedUntil`, and returns what sending them needs. The claim is one statement, so a row
 * is claimed by one instance. On PostgreSQL the candidates are locked FOR UPDATE SKIP
 * LOCKED, so instances claiming at once take disjoint rows without waiting on each other,
 * and the claiming UPDATE is a data-modifying CTE joined to the event and the endpoint: one
 * round trip per pass. A claim that is not finished by its lease (the instance crashed) is
 * free again. SQLite has one writer at a time: the update alone decides, and a second
 * statement (no RETURNING from joined tables there) reads the rest.
 */
export async function claimDue(
  db: Executor,
  now: string,
  lockedUntil: string,
  claim: string,
  limit: number,
  excludeEndpoints: number[] = [],
): Promise<ClaimedDelivery[]> {
  let candidates = db
    .selectFrom('webhook_deliveries')
    .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'webhook_deliveries.endpoint_id')
    .select('webhook_deliveries.id')
    .where('webhook_deliveries.status', '=', 'pending')
    .where('webhook_deliveries.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('webhook_deliveries.locked_until', 'is', null), eb('webhook_deliveries.locked_until', '<', now)]))
    .where('webhook_endpoints.is_active', '=', true)
    .$if(excludeEndpoints.length > 0, (q) => q.where('webhook_deliveries.endpoint_id', 'not in', excludeEndpoints))
    .orderBy('webhook_deliveries.next_attempt_at', 'asc')
    .orderBy('webhook_deliveries.id', 'asc')
    .limit(limit);
  if (isPostgres(db)) {
    candidates = candidates.forUpdate('webhook_deliveries').skipLocked();
    return db
      .with('claimed', (qb) =>
        qb
          .updateTable('webhook_deliveries')
          .set({ locked_until: lockedUntil, claim })
          .where('id', 'in', candidates)
          .returning(['id', 'endpoint_id', 'claim', 'attempts', 'created_at', 'event_id as claimed_event_id']),
      )
      .selectFrom('claimed')
      .innerJoin('events', 'events.id', 'claimed.claimed_event_id')
      .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'claimed.endpoint_id')
      .select(['claimed.id', 'claimed.endpoint_id', 'claimed.claim', 'claimed.attempts', 'claimed.created_at', ...sendColumns])
      .orderBy('claimed.id', 'asc')
      .execute();
  }
  const rows = await db
    .updateTable('webhook_deliveries')
    .set({ locked_until: lockedUntil, claim })
    .where('id', 'in', candidates)
    .returning('id')
    .execute();
  if (rows.length === 0) return [];
  return claimedForSend(
    db,
    rows.map((r) => r.id),
  );
}

function claimedForSend(db: Executor, ids: number[]) {
  return db
    .selectFrom('webhook_deliveries')
    .innerJoin('events', 'events.id', 'webhook_deliveries.event_id')
    .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'webhook_deliveries.endpoint_id')
    .select([
      'webhook_deliveries.id',
      'webhook_deliveries.endpoint_id',
      'webhook_deliveries.claim',
      'webhook_deliveries.attempts',
      'webhook_deliveries.created_at',
      ...sendColumns,
    ])
    .where('webhook_deliveries.id', 'in', ids)
    .orderBy('webhook_deliveries.id', 'asc')
    .execute();
}
export type ClaimedDelivery = Awaited<ReturnType<typeof claimedForSend>>[number];

/** The outcome of an attempt, written only while this instance's claim still holds the row. */
export async function finishAttempt(db: Executor, id: number, claim: string, changes: Updateable<WebhookDeliveryTable>): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set((eb) => ({ ...changes, attempts: eb('attempts', '+', 1), locked_until: null, claim: null }))
    .where('id', '=', id)
    .where('claim', '=', claim)
    .execute();
}

/** Claimed deliveries not attempted (shutdown; more of one endpoint than it may have in flight): free again at once, not counted. */
export async function releaseClaims(db: Executor, ids: number[], claim: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('webhook_deliveries')
    .set({ locked_until: null, claim: null })
    .where('id', 'in', ids)
    .where('claim', '=', claim)
    .execute();
}

/** For /metrics and the benchmark. */
export async function deliveryCounts(db: Executor): Promise<{ pending: number; failed: number }> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => ['status', eb.fn.countAll<number | string>().as('n')])
    .where('status', 'in', ['pending', 'failed'])
    .groupBy('status')
    .execute();
  const of = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
  return { pending: of('pending'), failed: of('failed') };
}
