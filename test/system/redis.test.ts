import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildTestApp, freshDatabaseUrl, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createStudent } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';

const redisUrl = process.env.TEST_REDIS_URL;

describe('several instances over one database', { skip: redisUrl ? false : 'TEST_REDIS_URL is not set' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lp-multi-'));
  let shared: { url: string; drop: () => Promise<void> };
  let a: TestApp;
  let b: TestApp;
  let lonely: TestApp;

  before(async () => {
    shared = await freshDatabaseUrl();
    const DATABASE_URL = onPostgres ? shared.url : `sqlite:${path.join(dir, 'db.sqlite3')}`;
    const env = { DATABASE_URL, REDIS_URL: redisUrl!, RATE_LIMIT_LOGIN: '2/minute' };
    a = await buildTestApp(env);
    b = await buildTestApp({ ...env, SECRET_KEY: a.config.secretKey });
    lonely = await buildTestApp({ DATABASE_URL, SECRET_KEY: a.config.secretKey });
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close(), lonely?.close()]);
    await shared?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('revokes a session on every instance at once through Redis', async () => {
    const s = await createStudent(a);
    for (const app of [a, b, lonely]) assert.equal((await call(app, 'GET', '/api/profile/', { token: s.access })).status, 200);
    assert.equal((await call(a, 'POST', '/api/logout-all/', { token: s.access })).status, 205);
    assert.ok(await waitFor(async () => (await call(b, 'GET', '/api/profile/', { token: s.access })).status === 401), 'B learns of it');
    // Without Redis an instance only learns of it when it restarts (documented in the README).
    assert.equal((await call(lonely, 'GET', '/api/profile/', { token: s.access })).status, 200);
  });

  it('shares rate counters between instances', async () => {
    const address = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
    const login = (app: TestApp) =>
      app.inject({
        method: 'POST',
        url: '/api/login/',
        remoteAddress: address,
        payload: { username: 'nobody', password: 'whatever-pass' },
      });
    assert.equal((await login(a)).statusCode, 401);
    assert.equal((await login(b)).statusCode, 401);
    const third = await login(a);
    assert.equal(third.statusCode, 429);
    assert.ok(third.headers['retry-after']);
  });
});
