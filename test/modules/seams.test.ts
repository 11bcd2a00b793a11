import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createAdmin, createInstructor, createCategory } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import { call } from '../helpers/http.js';

/** Rules stated once, gates declared once, absolute URLs from a trusted origin. */
describe('seams', () => {
  let app: TestApp;
  let owner: TestUser;
  let admin: TestUser;
  let categoryId: number;

  before(async () => {
    app = await buildTestApp();
    owner = await createInstructor(app);
    admin = await createAdmin(app);
    categoryId = (await createCategory(app)).id;
  });
  after(() => app.close());

  describe('one title rule for courses and lessons (trimmed, then 1 to 200 characters)', () => {
    const padded = `  ${'t'.repeat(200)}  `;
    const tooLong = 't'.repeat(201);

    it('accepts 200 characters with surrounding spaces and refuses 201 or blank, for a course', async () => {
      const ok = await call(app, 'POST', '/api/courses/', {
        token: owner.access,
        body: { title: padded, description: '', price: '1.00', category: categoryId },
      });
      assert.equal(ok.status, 201);
      assert.equal(ok.body.title, 't'.repeat(200));
      for (const title of [tooLong, '   ']) {
        const bad = await call(app, 'POST', '/api/courses/', {
          token: owner.access,
          body: { title, description: '', price: '1.00', category: categoryId },
        });
        assert.equal(bad.status, 400);
        assert.ok(bad.body.title);
        assert.equal(bad.headers['x-error-code'], 'invalid');
      }
    });

    it('accepts and refuses exactly the same titles for a lesson', async () => {
      const course = await call(app, 'POST', '/api/courses/', {
        token: owner.access,
        body: { title: 'C', description: '', price: '0', category: categoryId },
      });
      const ok = await call(app, 'POST', '/api/lessons/', { token: owner.access, body: { course: course.body.id, title: padded } });
      assert.equal(ok.status, 201);
      assert.equal(ok.body.title, 't'.repeat(200));
      for (const title of [tooLong, '   ']) {
        const bad = await call(app, 'POST', '/api/lessons/', { token: owner.access, body: { course: course.body.id, title } });
        assert.equal(bad.status, 400);
        assert.ok(bad.body.title);
      }
      const patched = await call(app, 'PATCH', `/api/lessons/${ok.body.id}/`, { token: owner.access, body: { title: tooLong } });
      assert.equal(patched.status, 400);
    });
  });

  describe('gates and the OpenAPI security entry come from one declaration', () => {
    it('every documented operation states its security, and it matches what the route answers anonymously', async () => {
      const schema = (await call(app, 'GET', '/api/schema/')).body as { paths: Record<string, Record<string, { security?: unknown[] }>> };
      const anonymousAllowed = new Set<string>();
      let checked = 0;
      for (const [path, operations] of Object.entries(schema.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          assert.ok(Array.isArray(operation.security), `${method} ${path} has no security entry`);
          const optional = operation.security.some((s) => Object.keys(s as object).length === 0);
          if (optional) anonymousAllowed.add(`${method} ${path}`);
          // A route that needs a token answers 401 without one, before reading any body.
          if (!optional && !path.includes('{')) {
            const res = await app.inject({ method: method.toUpperCase() as 'GET', url: path });
            assert.equal(res.statusCode, 401, `${method} ${path} without a token`);
            checked++;
          }
        }
      }
      assert.ok(checked > 5);
      assert.ok(anonymousAllowed.has('get /api/courses/'));
      assert.ok(!anonymousAllowed.has('post /api/courses/'));
    });

    it('a route that does not say who may call it is refused at start', async () => {
      const Fastify = (await import('fastify')).default;
      const authPlugin = (await import('../../src/plugins/auth.js')).default;
      const bare = Fastify();
      await bare.register(authPlugin, { auth: app.services.auth });
      await assert.rejects(async () => {
        await bare.register(async (scope) => {
          scope.get('/x', async () => 'x');
        });
        await bare.ready();
      }, /does not say who may call it/);
      await bare.close();
    });

    it('a bad token is refused with SimpleJWT code on public routes too, and an admin-only route refuses others with 403', async () => {
      const bad = await call(app, 'GET', '/api/courses/', { token: 'not-a-token' });
      assert.equal(bad.status, 401);
      assert.equal(bad.body.code, 'token_not_valid');
      const other = await call(app, 'POST', '/api/categories/', { token: owner.access, body: { name: 'X' } });
      assert.equal(other.status, 403);
      assert.equal(other.headers['x-error-code'], 'permission_denied');
      const mine = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: 'Seams' } });
      assert.equal(mine.status, 201);
    });
  });

  describe('absolute URLs', () => {
    it('never reflect a foreign or malformed Host, and never fail on one', async () => {
      for (let i = 0; i < 11; i++) await createCategory(app);
      for (const host of ['evil.example', 'a b', '[', 'x:99999', 'localhost:8000']) {
        const res = await app.inject({ method: 'GET', url: '/api/categories/', headers: { host } });
        assert.equal(res.statusCode, 200, host);
        const next = res.json<{ next: string }>().next;
        assert.ok(next.startsWith('http://'), next);
        if (host === 'localhost:8000') assert.ok(next.startsWith('http://localhost:8000/'), next);
        else assert.ok(!next.includes('evil') && new URL(next).host === '127.0.0.1:8000', `${host} → ${next}`);
      }
    });

    it('PUBLIC_URL wins over any Host', async () => {
      const other = await buildTestApp({ PUBLIC_URL: 'https://api.example.com/' });
      try {
        for (let i = 0; i < 11; i++) await createCategory(other);
        const res = await other.inject({ method: 'GET', url: '/api/categories/?page_size=5', headers: { host: 'localhost' } });
        assert.equal(res.json<{ next: string }>().next, 'https://api.example.com/api/categories/?page_size=5&page=2');
      } finally {
        await other.close();
      }
    });
  });

  describe('pagination checks the page before reading rows', () => {
    it('a page number far past any list is 404 Invalid page. on every paginated list, never a 5xx', async () => {
      for (const url of ['/api/categories/', '/api/courses/', '/api/reviews/', '/api/lessons/', '/api/admin/users/', '/api/my-courses/']) {
        for (const page of ['1000000000000000000000', '99999999999', '1e21']) {
          const token = url.startsWith('/api/admin') ? admin.access : url === '/api/my-courses/' ? undefined : undefined;
          const res = await call(app, 'GET', `${url}?page=${page}`, { token });
          if (url === '/api/my-courses/') {
            assert.equal(res.status, 401);
            continue;
          }
          assert.equal(res.status, 404, `${url}?page=${page}`);
          assert.deepEqual(res.body, { detail: 'Invalid page.' });
        }
      }
    });
  });
});
