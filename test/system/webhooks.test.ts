import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDatabase } from '../../src/db/index.js';
import { freshDatabaseUrl, onPostgres } from '../helpers/app.js';
import { createStudent, createCourse } from '../helpers/factories.js';
import { buildWebhookApp, startReceiver } from '../helpers/webhooks.js';
import { enrollViaApi } from '../helpers/actions.js';
import { startServer } from '../helpers/server.js';
import type { RunningServer } from '../helpers/server.js';

async function call(port: number, method: string, url: string, body?: unknown, token?: string) {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
}

describe('webhooks on real servers', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'lp-webhooks-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('a server killed (SIGKILL) between the commit and the delivery: after a restart the event arrives, with its webhook-id', async () => {
    const { url: pgUrl, drop } = await freshDatabaseUrl();
    const databaseUrl = onPostgres ? pgUrl : `sqlite:${path.join(work, 'crash.sqlite3')}`;
    const receiver = await startReceiver();
    const env = {
      DATABASE_URL: databaseUrl,
      MEDIA_ROOT: path.join(work, 'media'),
      SECRET_KEY: 'k'.repeat(40),
      WEBHOOK_ALLOW_PRIVATE: 'true',
      INSTRUCTOR_AUTO_APPROVE: 'true',
      RATE_LIMIT_LOGIN: 'off',
      RATE_LIMIT_REGISTER: 'off',
    };
    // The first instance records events but never sends them: it dies before it could.
    const first = await startServer({ ...env, WEBHOOK_WORKER: 'false' }, work);
    let second: RunningServer | undefined;
    try {
      const db = createDatabase(databaseUrl).db;
      const category = await db
        .insertInto('categories')
        .values({ name: 'Crash', name_key: 'crash', slug: 'crash', description: '' })
        .returning('id')
        .executeTakeFirstOrThrow();
      const password = 'a-long-enough-passphrase';
      assert.equal(
        (
          await call(first.port, 'POST', '/api/register/', {
            username: 'crashy',
            email: 'crashy@example.com',
            password,
            role: 'instructor',
          })
        ).status,
        201,
      );
      const { body: tokens } = await call(first.port, 'POST', '/api/login/', { username: 'crashy', password });
      const token = String(tokens.access);
      const hook = await call(first.port, 'POST', '/api/webhooks/', { url: receiver.url('/crash'), events: ['course.published'] }, token);
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      const course = await call(
        first.port,
        'POST',
        '/api/courses/',
        { title: 'Crash course', description: 'd', price: '0', category: category.id, is_published: true },
        token,
      );
      assert.equal(course.status, 201, JSON.stringify(course.body));
      // Committed: the response is out. Kill the process at once, before any delivery.
      first.child.kill('SIGKILL');
      await first.exited;
      const [event] = await db.selectFrom('events').selectAll().where('type', '=', 'course.published').execute();
      assert.ok(event, 'the event was committed with the course');
      assert.equal(event.dispatched_at, null);
      assert.equal(receiver.received.length, 0);

      second = await startServer(env, work);
      await receiver.waitFor(1, 15_000);
      assert.equal(receiver.received.length, 1);
      const [got] = receiver.received;
      assert.equal(got?.headers['webhook-id'], event.id);
      assert.equal(got?.json.type, 'course.published');
      assert.equal((got?.json.data.course as { id: number }).id, course.body.id);
      const deliveries = await call(second.port, 'GET', `/api/webhooks/${String(hook.body.id)}/deliveries/`, undefined, token);
      assert.equal(deliveries.status, 200);
      await new Promise((r) => setTimeout(r, 300));
      const after = await call(second.port, 'GET', `/api/webhooks/${String(hook.body.id)}/deliveries/`, undefined, token);
      assert.equal((after.body.results as { status: string }[])[0]?.status, 'delivered');
      await db.destroy();
    } finally {
      first.child.kill('SIGKILL');
      second?.child.kill('SIGTERM');
      await second?.exited;
      await receiver.close();
      await drop();
    }
  });

  it("a hanging receiver delays neither the API nor other endpoints' deliveries", async () => {
    const app = await buildWebhookApp({ autoStart: true, pollMs: 200 });
    const hanging = await startReceiver(() => 'hang');
    const healthy = await startReceiver();
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const port = (app.server.address() as AddressInfo).port;
      const course = await createCourse(app);
      const token = course.owner.access;
      assert.equal((await call(port, 'POST', '/api/webhooks/', { url: hanging.url('/hang'), events: ['*'] }, token)).status, 201);
      assert.equal((await call(port, 'POST', '/api/webhooks/', { url: healthy.url('/ok'), events: ['*'] }, token)).status, 201);

      const latency = async (n: number) => {
        const times: number[] = [];
        for (let i = 0; i < n; i++) {
          const start = performance.now();
          const res = await fetch(`http://127.0.0.1:${port}/api/courses/${course.id}/`);
          await res.arrayBuffer();
          times.push(performance.now() - start);
        }
        times.sort((a, b) => a - b);
        return { median: times[Math.floor(n / 2)] ?? 0, p90: times[Math.floor(n * 0.9)] ?? 0 };
      };
      await latency(20); // warm up
      const baseline = await latency(60);

      const students = await Promise.all(Array.from({ length: 20 }, () => createStudent(app)));
      for (const student of students) assert.equal((await enrollViaApi(app, student, course.id)).status, 201);
      // The healthy endpoint gets all 20 while the hanging one holds its attempts open (10 s timeout).
      const started = Date.now();
      await healthy.waitFor(20, 8_000);
      const healthyMs = Date.now() - started;
      assert.equal(healthy.received.length, 20, 'every event reached the healthy endpoint');
      assert.ok(healthyMs < 5_000, `healthy deliveries took ${healthyMs} ms`);
      assert.ok(
        hanging.received.length >= 1 && hanging.received.length <= 4,
        `attempts held open on the hanging endpoint: ${hanging.received.length}`,
      );

      const during = await latency(60);
      console.log(
        `# API latency (ms) baseline median ${baseline.median.toFixed(2)} p90 ${baseline.p90.toFixed(2)}; with a hanging receiver median ${during.median.toFixed(2)} p90 ${during.p90.toFixed(2)}; healthy endpoint got 20 events in ${healthyMs} ms`,
      );
      assert.ok(during.median < baseline.median * 3 + 5, `median ${during.median} vs ${baseline.median}`);
      assert.equal(app.services.webhookWorker.inFlight() <= 8, true);
    } finally {
      await app.close();
      await hanging.close();
      await healthy.close();
    }
  });
});
