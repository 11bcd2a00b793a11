import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createInstructor, createStudent, createCourse } from '../helpers/factories.js';
import type { TestApp } from '../helpers/app.js';
import { buildWebhookApp, startReceiver } from '../helpers/webhooks.js';
import type { ResolvedAddress } from '../../src/modules/events/addresses.js';
import { call } from '../helpers/http.js';
import { enrollViaApi } from '../helpers/actions.js';

const PUBLIC = '93.184.216.34';

describe('webhooks: SSRF defence with WEBHOOK_ALLOW_PRIVATE off', () => {
  // The DNS the app sees: names the test controls.
  const dns = new Map<string, ResolvedAddress[]>();
  const lookups: string[] = [];
  let app: TestApp;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    app = await buildWebhookApp({
      env: { WEBHOOK_ALLOW_PRIVATE: 'false' },
      resolve: async (hostname) => {
        lookups.push(hostname);
        const found = dns.get(hostname);
        if (!found) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        return found;
      },
    });
    receiver = await startReceiver();
  });
  after(async () => {
    await app.close();
    await receiver.close();
  });

  it('refuses non-public addresses at registration: 400 url_not_allowed', async () => {
    const owner = await createInstructor(app);
    dns.set('internal.test', [{ address: '10.0.0.5', family: 4 }]);
    dns.set('mixed.test', [
      { address: PUBLIC, family: 4 },
      { address: '127.0.0.1', family: 4 },
    ]);
    dns.set('v6local.test', [{ address: 'fd00::1', family: 6 }]);
    const refused = [
      'http://127.0.0.1/',
      'http://127.1.2.3:8080/x',
      'http://localhost.test/',
      'http://10.1.2.3/',
      'http://172.16.0.1/',
      'http://192.168.1.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/',
      'http://0.0.0.0/',
      'http://224.0.0.1/',
      'http://255.255.255.255/',
      'http://[::1]/',
      'http://[::]/',
      'http://[fe80::1]/',
      'http://[fc00::1]/',
      'http://[ff02::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[64:ff9b::7f00:1]/',
      'http://internal.test/',
      'http://mixed.test/',
      'http://v6local.test/',
      'http://2130706433/',
      'http://0x7f.1/',
    ];
    for (const url of refused) {
      const res = await call(app, 'POST', '/api/webhooks/', { as: owner, body: { url, events: ['*'] } });
      assert.equal(res.status, 400, `${url} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.ok('url' in res.body);
      assert.ok(['url_not_allowed', 'invalid'].includes(String(res.headers['x-error-code'])), url);
    }
    assert.equal(
      (await call(app, 'POST', '/api/webhooks/', { as: owner, body: { url: 'http://nowhere.test/', events: ['*'] } })).status,
      400,
    );
    assert.equal(await app.database.db.selectFrom('webhook_endpoints').select('id').executeTakeFirst(), undefined);
  });

  it('accepts a public address (a literal, or a name that resolves to one)', async () => {
    const owner = await createInstructor(app);
    dns.set('public.test', [
      { address: PUBLIC, family: 4 },
      { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
    ]);
    assert.equal(
      (await call(app, 'POST', '/api/webhooks/', { as: owner, body: { url: 'https://public.test/hook', events: ['*'] } })).status,
      201,
    );
    assert.equal(
      (await call(app, 'POST', '/api/webhooks/', { as: owner, body: { url: `http://${PUBLIC}/hook`, events: ['*'] } })).status,
      201,
    );
  });

  it('refuses again at delivery after resolution: a name rebound to 127.0.0.1 never reaches the loopback receiver', async () => {
    const course = await createCourse(app);
    dns.set('rebind.test', [{ address: PUBLIC, family: 4 }]);
    const created = await call(app, 'POST', '/api/webhooks/', {
      as: course.owner,
      body: {
        url: `http://rebind.test:${receiver.port}/rebound`,
        events: ['*'],
      },
    });
    assert.equal(created.status, 201);
    // The attacker's DNS now answers with the loopback address.
    dns.set('rebind.test', [{ address: '127.0.0.1', family: 4 }]);
    lookups.length = 0;
    await enrollViaApi(app, await createStudent(app), course.id);
    await app.services.webhookWorker.runOnce();
    assert.ok(lookups.includes('rebind.test'), 'resolved at delivery');
    assert.equal(receiver.received.length, 0);
    const log = await call(app, 'GET', `/api/webhooks/${created.body.id}/deliveries/`, { as: course.owner });
    const [d] = log.body.results;
    assert.equal(d.status, 'pending');
    assert.equal(d.attempts, 1);
    assert.equal(d.last_status_code, null);
    assert.match(d.last_error, /refused.*127\.0\.0\.1.*not a public address/);
  });

  it('refuses at delivery an address literal that became private (a row written around the API)', async () => {
    const course = await createCourse(app);
    const created = await call(app, 'POST', '/api/webhooks/', { as: course.owner, body: { url: `http://${PUBLIC}/x`, events: ['*'] } });
    await app.database.db
      .updateTable('webhook_endpoints')
      .set({ url: `http://127.0.0.1:${receiver.port}/literal` })
      .where('id', '=', created.body.id)
      .execute();
    await enrollViaApi(app, await createStudent(app), course.id);
    await app.services.webhookWorker.runOnce();
    assert.equal(receiver.received.length, 0);
    const log = await call(app, 'GET', `/api/webhooks/${created.body.id}/deliveries/`, { as: course.owner });
    assert.match(log.body.results[0].last_error, /refused/);
  });

  it('PATCH to a private address is refused too', async () => {
    const owner = await createInstructor(app);
    const created = await call(app, 'POST', '/api/webhooks/', { as: owner, body: { url: `http://${PUBLIC}/x`, events: ['*'] } });
    const res = await call(app, 'PATCH', `/api/webhooks/${created.body.id}/`, { as: owner, body: { url: 'http://192.168.0.10/' } });
    assert.equal(res.status, 400);
    assert.equal(res.headers['x-error-code'], 'url_not_allowed');
  });

  it('refuses students with 403 before looking at the URL', async () => {
    const res = await call(app, 'POST', '/api/webhooks/', {
      as: await createStudent(app),
      body: { url: 'http://127.0.0.1/', events: ['*'] },
    });
    assert.equal(res.status, 403);
  });
});
