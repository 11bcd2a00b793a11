import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { runExclusive } from '../../src/db/exclusive.js';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createStudent } from '../helpers/factories.js';

describe('housekeeping', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  it('expired sessions are pruned on schedule; live ones stay and keep working', async () => {
    const live = await createStudent(app);
    const stale = await createStudent(app);
    const past = new Date(Date.now() - 60_000).toISOString();
    await app.database.db.updateTable('sessions').set({ expires_at: past }).where('user_id', '=', stale.user.id).execute();
    await app.jobs.runNow('prune-sessions');
    const left = await app.database.db.selectFrom('sessions').select('user_id').execute();
    assert.deepEqual(left.map((s) => s.user_id).sort(), [live.user.id]);
    const me = await app.inject({ method: 'GET', url: '/api/profile/', headers: live.headers });
    assert.equal(me.statusCode, 200);
  });

  it(
    'a job runs on one instance at a time (PostgreSQL advisory lock)',
    { skip: !onPostgres && 'SQLite: one process owns the file' },
    async () => {
      const db = app.database.db;
      let ran = 0;
      await db.transaction().execute(async (holder) => {
        await sql`select pg_advisory_xact_lock(hashtext('lp:prune-sessions'))`.execute(holder);
        assert.equal(
          await runExclusive(db, 'prune-sessions', async () => {
            ran++;
          }),
          false,
        );
      });
      assert.equal(
        await runExclusive(db, 'prune-sessions', async () => {
          ran++;
        }),
        true,
      );
      assert.equal(ran, 1);
    },
  );
});

describe('requests with a bad token are throttled like anonymous traffic', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp({ RATE_LIMIT_ANON: '3/minute' });
  });
  after(() => app.close());

  it('401 until the anonymous rate is spent, then 429 with Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({ method: 'GET', url: '/api/courses/', headers: { authorization: 'Bearer forged.token.here' } });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) assert.ok(res.headers['retry-after']);
      if (res.statusCode === 401) assert.equal(res.json<{ code: string }>().code, 'token_not_valid');
    }
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
  });
});
