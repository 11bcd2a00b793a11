import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery, sql } from 'kysely';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { undispatchedQuery } from '../../src/modules/events/repository.js';

/**
 * The dispatcher finds pending events through the partial index that holds only them
 * (migration 0010), not through an index of every event ever dispatched. On PostgreSQL, whose
 * planner rightly prefers a scan for a table this small, scans and sorts are disabled for the EXPLAIN.
 */
describe('outbox: pending events by their own index', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  it('the dispatcher query reads events_pending, in the order it takes events', async () => {
    const compiled = undispatchedQuery(app.database.db, 50).compile();
    const plan = onPostgres
      ? await app.database.db.transaction().execute(async (trx) => {
          await sql`set local enable_seqscan = off`.execute(trx);
          await sql`set local enable_sort = off`.execute(trx);
          const rows = await trx.executeQuery<{ 'QUERY PLAN': string }>(
            CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]),
          );
          return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
        })
      : (
          await app.database.db.executeQuery<{ detail: string }>(
            CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
          )
        ).rows
          .map((r) => r.detail)
          .join('\n');
    assert.match(plan, /events_pending/);
    assert.doesNotMatch(plan, /TEMP B-TREE|Sort/i, plan);
  });
});
