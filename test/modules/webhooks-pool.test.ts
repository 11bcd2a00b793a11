import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { WORKER_POOL_SIZE } from '../../src/app.js';
import { onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { enrollViaApi } from '../helpers/actions.js';
import { createCourse, createStudent } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { buildWebhookApp, startReceiver } from '../helpers/webhooks.js';

/**
 * Issue 16's benchmark: on PostgreSQL, delivery all but stopped under write load because the
 * worker queued for the API's pooled connections behind every waiting request. The worker
 * has connections of its own now: with every connection of the API's pool held, an event
 * still goes out. (SQLite has one in-process connection for both; nothing to saturate.)
 */
describe('webhook delivery does not wait for the API pool (postgres)', { skip: !onPostgres && 'PostgreSQL only' }, () => {
  let app: TestApp;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    app = await buildWebhookApp();
    receiver = await startReceiver();
  });
  after(async () => {
    await app.close();
    await receiver.close();
  });

  it('with every API connection busy, a committed event is delivered within seconds', async () => {
    const course = await createCourse(app);
    const created = await call(app, 'POST', '/api/webhooks/', {
      as: course.owner,
      body: { url: receiver.url('/busy'), events: ['enrollment.created'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await enrollViaApi(app, await createStudent(app), course.id)).status, 201);

    // Hold every connection of the API's pool (buildWebhookApp opens 20), as 32 writers did.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    const holders = Array.from({ length: 20 }, () =>
      app.database.db.connection().execute(async (conn) => {
        await sql`select 1`.execute(conn);
        holding++;
        await gate;
      }),
    );
    let extraDone = false;
    let delivery: Promise<void> | undefined;
    try {
      assert.ok(await waitFor(() => holding === 20, { timeoutMs: 10_000 }), `only ${holding} of 20 connections held`);
      // One more API query waits: the pool is saturated.
      const extra = sql`select 1`.execute(app.database.db).then(() => (extraDone = true));
      delivery = app.services.webhookWorker.runOnce();
      assert.ok(
        await waitFor(() => receiver.received.some((r) => r.path === '/busy'), { timeoutMs: 10_000, intervalMs: 20 }),
        'the event was not delivered while the API pool was busy',
      );
      assert.equal(extraDone, false, 'the API pool was not saturated');
      release();
      await Promise.all([...holders, extra, delivery]);
    } finally {
      release();
      await Promise.allSettled([...holders, delivery]);
    }
    const [got] = receiver.received.filter((r) => r.path === '/busy');
    assert.equal(got?.json.type, 'enrollment.created');

    // The worker's connections are its own and few, named for operators.
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and application_name = 'lp-webhook-worker'`.execute(app.database.db);
    assert.ok(rows[0]!.n >= 1 && rows[0]!.n <= WORKER_POOL_SIZE, `worker connections: ${rows[0]!.n}`);
  });
});
