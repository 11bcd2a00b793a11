import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { createAdmin, createInstructor, createStudent, createCourse, createLessons } from '../helpers/factories.js';
import type { TestApp } from '../helpers/app.js';
import { buildWebhookApp, startReceiver, testClock } from '../helpers/webhooks.js';
import type { TestUser } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { completeLessonViaApi, enrollViaApi } from '../helpers/actions.js';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

async function register(app: TestApp, as: TestUser, body: Record<string, unknown>) {
  return call(app, 'POST', '/api/webhooks/', { as, body });
}

async function deliveries(app: TestApp, as: TestUser, endpointId: number) {
  const res = await call(app, 'GET', `/api/webhooks/${endpointId}/deliveries/?page_size=100`, { as });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.results as {
    id: number;
    event_id: string;
    type: string;
    status: string;
    attempts: number;
    last_status_code: number | null;
    last_error: string | null;
    next_attempt_at: string | null;
    delivered_at: string | null;
  }[];
}

describe('webhooks', () => {
  const clock = testClock();
  let app: TestApp;
  let receiver: Receiver;
  let status = 204;
  before(async () => {
    app = await buildWebhookApp({ now: clock.now });
    receiver = await startReceiver(() => status);
  });
  after(async () => {
    await app.close();
    await receiver.close();
  });

  describe('endpoints', () => {
    it('registers an endpoint for an approved instructor: 201 with a whsec_ secret of 24+ bytes, shown only then', async () => {
      const owner = await createInstructor(app);
      const res = await register(app, owner, { url: receiver.url(), events: ['enrollment.created'] });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body).sort(), ['created_at', 'events', 'id', 'is_active', 'secret', 'url']);
      assert.match(res.body.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
      assert.ok(Buffer.from(res.body.secret.slice(6), 'base64').length >= 24);
      assert.deepEqual(res.body.events, ['enrollment.created']);
      assert.equal(res.body.is_active, true);
      const got = await call(app, 'GET', `/api/webhooks/${res.body.id}/`, { as: owner });
      assert.equal(got.status, 200);
      assert.equal('secret' in got.body, false);
      const list = await call(app, 'GET', '/api/webhooks/', { as: owner });
      assert.equal(list.body.count, 1);
      assert.equal('secret' in list.body.results[0], false);
    });

    it('admins register too; students, pending and rejected instructors may not (403), anonymous 401', async () => {
      assert.equal((await register(app, await createAdmin(app), { url: receiver.url(), events: ['*'] })).status, 201);
      const student = await register(app, await createStudent(app), { url: receiver.url(), events: ['*'] });
      assert.equal(student.status, 403);
      const pending = await register(app, await createInstructor(app, 'pending'), { url: receiver.url(), events: ['*'] });
      assert.equal(pending.status, 403);
      assert.equal(pending.headers['x-error-code'], 'instructor_not_approved');
      assert.equal((await register(app, await createInstructor(app, 'rejected'), { url: receiver.url(), events: ['*'] })).status, 403);
      assert.equal((await call(app, 'POST', '/api/webhooks/', { body: { url: receiver.url(), events: ['*'] } })).status, 401);
    });

    it('validates url and events: 400 on the field', async () => {
      const owner = await createInstructor(app);
      const cases: [Record<string, unknown>, string, string?][] = [
        [{ url: 'ftp://example.com/x', events: ['*'] }, 'url', 'url_scheme'],
        [{ url: 'file:///etc/passwd', events: ['*'] }, 'url', 'url_scheme'],
        [{ url: 'not a url', events: ['*'] }, 'url'],
        [{ url: 'http://exa\u0000mple.com/', events: ['*'] }, 'url'],
        [{ url: 'http://user:pw@127.0.0.1/', events: ['*'] }, 'url'],
        [{ url: receiver.url(), events: ['nope.happened'] }, 'events'],
        [{ url: receiver.url(), events: [] }, 'events'],
        [{ url: receiver.url() }, 'events'],
      ];
      for (const [body, field, code] of cases) {
        const res = await register(app, owner, body);
        assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status}`);
        assert.ok(field in res.body, JSON.stringify(res.body));
        if (code) assert.equal(res.headers['x-error-code'], code);
      }
      const star = await register(app, owner, { url: receiver.url(), events: ['review.created', '*'] });
      assert.deepEqual(star.body.events, ['*']);
      const dupes = await register(app, owner, { url: receiver.url(), events: ['lesson.completed', 'lesson.completed'] });
      assert.deepEqual(dupes.body.events, ['lesson.completed']);
    });

    it("is its creator's and admins': anyone else gets 404 on get, patch, delete, deliveries and retry", async () => {
      const owner = await createInstructor(app);
      const other = await createInstructor(app);
      const created = await register(app, owner, { url: receiver.url(), events: ['*'] });
      const id = created.body.id;
      assert.equal((await call(app, 'GET', `/api/webhooks/${id}/`, { as: other })).status, 404);
      assert.equal((await call(app, 'PATCH', `/api/webhooks/${id}/`, { as: other, body: { is_active: false } })).status, 404);
      assert.equal((await call(app, 'DELETE', `/api/webhooks/${id}/`, { as: other })).status, 404);
      assert.equal((await call(app, 'GET', `/api/webhooks/${id}/deliveries/`, { as: other })).status, 404);
      assert.equal((await call(app, 'POST', `/api/webhooks/${id}/deliveries/1/retry/`, { as: other })).status, 404);
      assert.equal((await call(app, 'GET', '/api/webhooks/', { as: other })).body.count, 0);
      const admin = await createAdmin(app);
      assert.equal((await call(app, 'GET', `/api/webhooks/${id}/`, { as: admin })).status, 200);
      assert.ok(
        (await call(app, 'GET', '/api/webhooks/?page_size=100', { as: admin })).body.results.some((e: { id: number }) => e.id === id),
      );
      assert.equal((await call(app, 'GET', '/api/webhooks/999999/', { as: owner })).status, 404);
      assert.equal((await call(app, 'GET', '/api/webhooks/?page=99999999', { as: owner })).status, 404);
    });

    it('PATCH changes url, events and is_active; nothing writable: 200 unchanged; DELETE: 204 then 404', async () => {
      const owner = await createInstructor(app);
      const { body: created } = await register(app, owner, { url: receiver.url(), events: ['*'] });
      const same = await call(app, 'PATCH', `/api/webhooks/${created.id}/`, { as: owner, body: {} });
      assert.equal(same.status, 200);
      assert.deepEqual(same.body, {
        id: created.id,
        url: created.url,
        events: created.events,
        is_active: true,
        created_at: created.created_at,
      });
      const patched = await call(app, 'PATCH', `/api/webhooks/${created.id}/`, {
        as: owner,
        body: {
          url: receiver.url('/other'),
          events: ['course.completed'],
          is_active: false,
        },
      });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.url, receiver.url('/other'));
      assert.deepEqual(patched.body.events, ['course.completed']);
      assert.equal(patched.body.is_active, false);
      assert.equal((await call(app, 'PATCH', `/api/webhooks/${created.id}/`, { as: owner, body: { url: 'gopher://x' } })).status, 400);
      assert.equal((await call(app, 'DELETE', `/api/webhooks/${created.id}/`, { as: owner })).status, 204);
      assert.equal((await call(app, 'GET', `/api/webhooks/${created.id}/`, { as: owner })).status, 404);
    });
  });

  describe('delivery', () => {
    it('signs per Standard Webhooks: the standardwebhooks library verifies the body; the body is {id, type, created_at, data}', async () => {
      const course = await createCourse(app);
      const { body: endpoint } = await register(app, course.owner, { url: receiver.url('/signed'), events: ['enrollment.created'] });
      const student = await createStudent(app);
      assert.equal((await enrollViaApi(app, student, course.id)).status, 201);
      await app.services.webhookWorker.runOnce();
      const got = receiver.received.filter((r) => r.path === '/signed');
      assert.equal(got.length, 1);
      const [message] = got;
      assert.ok(message);
      const verified = new Webhook(endpoint.secret).verify(message.body, message.headers as Record<string, string>) as Record<
        string,
        unknown
      >;
      assert.deepEqual(Object.keys(verified).sort(), ['created_at', 'data', 'id', 'type']);
      assert.equal(verified.type, 'enrollment.created');
      assert.equal(verified.id, message.headers['webhook-id']);
      assert.match(String(message.headers['webhook-signature']), /^v1,/);
      assert.deepEqual((verified.data as { enrollment: { course: number; student: number } }).enrollment.course, course.id);
      assert.equal(message.body.includes('@'), false, 'no email in the body');
      // A wrong secret does not verify.
      assert.throws(() =>
        new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(message.body, message.headers as Record<string, string>),
      );
      const log = await deliveries(app, course.owner, endpoint.id);
      assert.equal(log.length, 1);
      assert.equal(log[0]?.status, 'delivered');
      assert.equal(log[0]?.attempts, 1);
      assert.equal(log[0]?.last_status_code, 204);
      assert.equal(log[0]?.next_attempt_at, null);
      assert.ok(log[0]?.delivered_at);
      assert.equal(log[0]?.event_id, message.headers['webhook-id']);
    });

    it('sends every event enrollments and courses record: enrollment.created/deleted, lesson.completed, course.completed, course.published', async () => {
      const owner = await createInstructor(app);
      const { body: endpoint } = await register(app, owner, { url: receiver.url('/all'), events: ['*'] });
      const created = await call(app, 'POST', '/api/courses/', {
        as: owner,
        body: {
          title: 'Published on create',
          description: 'x',
          price: '0',
          category: (await createCourse(app, { instructor: owner })).category_id,
          is_published: true,
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const course = await createCourse(app, { instructor: owner, is_published: false });
      assert.equal((await call(app, 'PATCH', `/api/courses/${course.id}/`, { as: owner, body: { is_published: true } })).status, 200);
      const [lesson] = await createLessons(app, course.id, 1);
      const student = await createStudent(app);
      assert.equal((await enrollViaApi(app, student, course.id)).status, 201);
      assert.equal((await completeLessonViaApi(app, student, lesson?.id ?? 0)).status, 200);
      assert.equal((await call(app, 'DELETE', `/api/enroll/${course.id}/`, { as: student })).status, 204);
      await app.services.webhookWorker.runOnce();
      const types = receiver.received.filter((r) => r.path === '/all').map((r) => r.json.type);
      assert.deepEqual(types.sort(), [
        'certificate.issued',
        'course.completed',
        'course.published',
        'course.published',
        'enrollment.created',
        'enrollment.deleted',
        'lesson.completed',
      ]);
      const log = await deliveries(app, owner, endpoint.id);
      assert.ok(log.every((d) => d.status === 'delivered'));
      const published = receiver.received.find(
        (r) => r.path === '/all' && r.json.data.course && (r.json.data.course as { id: number }).id === course.id,
      );
      assert.deepEqual(published?.json.data, { course: { id: course.id, title: course.title, instructor: owner.user.id } });
    });

    it("instructors receive their own courses' events only; admins every event; subscriptions filter by type", async () => {
      const mine = await createCourse(app);
      const theirs = await createCourse(app);
      await register(app, mine.owner, { url: receiver.url('/mine'), events: ['enrollment.created'] });
      await register(app, mine.owner, { url: receiver.url('/mine-completed'), events: ['course.completed'] });
      await register(app, await createAdmin(app), { url: receiver.url('/admin'), events: ['enrollment.created'] });
      const student = await createStudent(app);
      await enrollViaApi(app, student, mine.id);
      await enrollViaApi(app, student, theirs.id);
      await app.services.webhookWorker.runOnce();
      const at = (p: string) =>
        receiver.received.filter((r) => r.path === p).map((r) => (r.json.data.enrollment as { course: number }).course);
      assert.deepEqual(at('/mine'), [mine.id]);
      assert.deepEqual(at('/mine-completed'), []);
      assert.deepEqual(
        at('/admin')
          .filter((id) => id === mine.id || id === theirs.id)
          .sort(),
        [mine.id, theirs.id].sort(),
      );
    });

    it('a rolled-back change sends nothing (a second enrollment fails on its unique index)', async () => {
      const course = await createCourse(app);
      await register(app, course.owner, { url: receiver.url('/rollback'), events: ['*'] });
      const student = await createStudent(app);
      assert.equal((await enrollViaApi(app, student, course.id)).status, 201);
      assert.equal((await enrollViaApi(app, student, course.id)).status, 409);
      await app.services.webhookWorker.runOnce();
      assert.equal(receiver.received.filter((r) => r.path === '/rollback').length, 1);
      const events = await app.database.db.selectFrom('events').select('id').where('course_id', '=', course.id).execute();
      assert.equal(events.length, 1);
    });

    it('retries a failing receiver with growing delays and the same webhook-id, then fails after 24 hours; a manual retry goes at once', async () => {
      const course = await createCourse(app);
      const { body: endpoint } = await register(app, course.owner, { url: receiver.url('/flaky'), events: ['enrollment.created'] });
      status = 500;
      try {
        await enrollViaApi(app, await createStudent(app), course.id);
        await app.services.webhookWorker.runOnce();
        let [d] = await deliveries(app, course.owner, endpoint.id);
        assert.equal(d?.status, 'pending');
        assert.equal(d?.attempts, 1);
        assert.equal(d?.last_status_code, 500);
        const delays = [5_000, 30_000, 120_000, 600_000, 3_600_000, 6 * 3_600_000];
        for (const [i, delay] of delays.entries()) {
          const expected = clock.now().getTime() + delay;
          assert.equal(Date.parse(d?.next_attempt_at ?? ''), expected, `delay after attempt ${i + 1}`);
          // Not due a moment before.
          clock.advance(delay - 1);
          await app.services.webhookWorker.runOnce();
          assert.equal((await deliveries(app, course.owner, endpoint.id))[0]?.attempts, i + 1);
          clock.advance(1);
          await app.services.webhookWorker.runOnce();
          [d] = await deliveries(app, course.owner, endpoint.id);
          assert.equal(d?.attempts, i + 2);
        }
        // Every 6 hours until 24 hours have passed, then failed.
        for (let i = 0; i < 10 && d?.status === 'pending'; i++) {
          clock.advance(6 * 3_600_000);
          await app.services.webhookWorker.runOnce();
          [d] = await deliveries(app, course.owner, endpoint.id);
        }
        assert.equal(d?.status, 'failed');
        assert.equal(d?.next_attempt_at, null);
        const sent = receiver.received.filter((r) => r.path === '/flaky');
        assert.equal(sent.length, d?.attempts);
        assert.equal(new Set(sent.map((r) => r.headers['webhook-id'])).size, 1, 'the same webhook-id on every attempt');

        status = 200;
        const retry = await call(app, 'POST', `/api/webhooks/${endpoint.id}/deliveries/${d?.id}/retry/`, { as: course.owner });
        assert.equal(retry.status, 202);
        await app.services.webhookWorker.runOnce();
        [d] = await deliveries(app, course.owner, endpoint.id);
        assert.equal(d?.status, 'delivered');
        assert.equal(d?.last_status_code, 200);
        assert.equal((await call(app, 'POST', `/api/webhooks/${endpoint.id}/deliveries/999999/retry/`, { as: course.owner })).status, 404);
      } finally {
        status = 204;
      }
    });

    it('does not follow redirects: a 3xx is a failed attempt and the target receives nothing', async () => {
      const redirecting = await startReceiver((req, res) => {
        if (req.path === '/moved') {
          res.writeHead(307, { location: receiver.url('/redirect-target') });
          res.end();
        }
      });
      try {
        const course = await createCourse(app);
        const { body: endpoint } = await register(app, course.owner, { url: redirecting.url('/moved'), events: ['*'] });
        await enrollViaApi(app, await createStudent(app), course.id);
        await app.services.webhookWorker.runOnce();
        const [d] = await deliveries(app, course.owner, endpoint.id);
        assert.equal(d?.status, 'pending');
        assert.equal(d?.last_status_code, 307);
        assert.equal(receiver.received.filter((r) => r.path === '/redirect-target').length, 0);
      } finally {
        await redirecting.close();
      }
    });

    it('a dead receiver (connection refused) is a failed attempt with the error, retried later', async () => {
      const dead = await startReceiver();
      const url = dead.url('/dead');
      await dead.close();
      const course = await createCourse(app);
      const { body: endpoint } = await register(app, course.owner, { url, events: ['*'] });
      await enrollViaApi(app, await createStudent(app), course.id);
      await app.services.webhookWorker.runOnce();
      const [d] = await deliveries(app, course.owner, endpoint.id);
      assert.equal(d?.status, 'pending');
      assert.equal(d?.last_status_code, null);
      assert.match(d?.last_error ?? '', /ECONNREFUSED|connect/i);
    });

    it("an inactive endpoint gets nothing new; a crashed instance's claim expires and another delivers it", async () => {
      const course = await createCourse(app);
      const { body: off } = await register(app, course.owner, { url: receiver.url('/off'), events: ['*'] });
      await call(app, 'PATCH', `/api/webhooks/${off.id}/`, { as: course.owner, body: { is_active: false } });
      const { body: on } = await register(app, course.owner, { url: receiver.url('/lease'), events: ['*'] });
      await enrollViaApi(app, await createStudent(app), course.id);
      // Fan out, then play an instance that claimed the delivery and died.
      const lockedUntil = new Date(clock.now().getTime() + 60_000).toISOString();
      await app.services.webhookWorker.runOnce().catch(() => undefined);
      const before = receiver.received.filter((r) => r.path === '/lease').length;
      assert.equal(before, 1);
      await app.database.db
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', next_attempt_at: clock.now().toISOString(), locked_until: lockedUntil, claim: 'dead-instance' })
        .where('endpoint_id', '=', on.id)
        .execute();
      await app.services.webhookWorker.runOnce();
      assert.equal(receiver.received.filter((r) => r.path === '/lease').length, 1, 'claimed by another: not sent');
      clock.advance(60_001);
      await app.services.webhookWorker.runOnce();
      assert.equal(receiver.received.filter((r) => r.path === '/lease').length, 2, 'the lease expired: sent');
      assert.equal((await deliveries(app, course.owner, off.id)).length, 0);
    });
  });

  describe('audit', () => {
    it('records webhook.created/updated/deleted with the actor and no secret', async () => {
      const owner = await createInstructor(app);
      const { body: endpoint } = await register(app, owner, { url: `${receiver.url('/audited')}?token=abc`, events: ['*'] });
      await call(app, 'PATCH', `/api/webhooks/${endpoint.id}/`, { as: owner, body: { is_active: false } });
      await call(app, 'DELETE', `/api/webhooks/${endpoint.id}/`, { as: owner });
      const admin = await createAdmin(app);
      const log = await call(app, 'GET', `/api/admin/audit/?target_type=webhook&target_id=${endpoint.id}`, { as: admin });
      assert.equal(log.status, 200);
      assert.deepEqual(log.body.results.map((e: { action: string }) => e.action).sort(), [
        'webhook.created',
        'webhook.deleted',
        'webhook.updated',
      ]);
      for (const entry of log.body.results) {
        assert.equal(entry.actor.id, owner.user.id);
        const text = JSON.stringify(entry.data);
        assert.equal(text.includes('whsec_'), false);
        assert.equal(text.includes(endpoint.secret.slice(6, 20)), false);
        assert.equal(text.includes('token=abc'), false);
      }
    });
  });
});
