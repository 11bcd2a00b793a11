import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import SwaggerParser from '@apidevtools/swagger-parser';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createStudent, PASSWORD, unique } from '../helpers/factories.js';
import { call, multipart, urlencoded } from '../helpers/http.js';

describe('HTTP conventions', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  it('answers an unknown route with a JSON 404', async () => {
    const res = await call(app, 'GET', '/api/does-not-exist/');
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { detail: 'Not found.' });
    assert.match(String(res.headers['content-type']), /application\/json/);
  });

  it('answers a known path with a wrong method with 405 and Allow', async () => {
    const res = await call(app, 'DELETE', '/api/login/');
    assert.equal(res.status, 405);
    assert.equal(typeof res.body.detail, 'string');
    assert.match(String(res.headers.allow), /POST/);
    const withParam = await call(app, 'DELETE', '/api/admin/users/5/approve/');
    assert.equal(withParam.status, 405);
  });

  it('accepts paths with and without the trailing slash', async () => {
    const s = await createStudent(app);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: s.access })).status, 200);
    assert.equal((await call(app, 'GET', '/api/profile', { token: s.access })).status, 200);
  });

  it('puts an X-Request-Id on every response, keeping a sane incoming one', async () => {
    for (const url of ['/health', '/api/profile/', '/api/nowhere']) {
      const res = await call(app, 'GET', url);
      assert.match(String(res.headers['x-request-id']), /^[\w.:-]+$/);
    }
    const echoed = await call(app, 'GET', '/health', { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(echoed.headers['x-request-id'], 'abc-123');
    const replaced = await call(app, 'GET', '/health', { headers: { 'x-request-id': 'bad id <script>' } });
    assert.notEqual(replaced.headers['x-request-id'], 'bad id <script>');
  });

  it('sets security headers', async () => {
    const res = await call(app, 'GET', '/health');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-frame-options'], 'DENY');
  });

  it('answers malformed JSON with 400 {detail}', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/login/',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": ',
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().detail, /JSON parse error/);
  });

  it('answers a non-object JSON body with 400', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/login/', headers: { 'content-type': 'application/json' }, payload: '[1,2]' });
    assert.equal(res.statusCode, 400);
    assert.ok(res.json().non_field_errors || res.json().username);
  });

  it('answers a JSON body over 1 MiB with 413', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/login/',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'x'.repeat(1024 * 1024 + 10), password: 'y' }),
    });
    assert.equal(res.statusCode, 413);
    assert.equal(typeof res.json().detail, 'string');
  });

  it('answers another content type with 415', async () => {
    const text = await app.inject({ method: 'POST', url: '/api/login/', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    assert.equal(text.statusCode, 415);
    assert.match(text.json().detail, /text\/plain/);
    const xml = await app.inject({ method: 'POST', url: '/api/login/', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    assert.equal(xml.statusCode, 415);
    assert.equal(typeof xml.json().detail, 'string');
  });

  // The contract (API.md, Conventions): every endpoint that takes a body takes form bodies too, with the same fields.
  describe('form bodies, as DRF parses them', () => {
    it('logs in with a multipart body', async () => {
      const s = await createStudent(app);
      const form = multipart({ username: s.user.username, password: PASSWORD });
      const res = await app.inject({ method: 'POST', url: '/api/login/', headers: form.headers, payload: form.payload });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(typeof res.json().access, 'string');
      const wrong = multipart({ username: s.user.username, password: 'not-the-password' });
      const refused = await app.inject({ method: 'POST', url: '/api/login/', headers: wrong.headers, payload: wrong.payload });
      assert.equal(refused.statusCode, 401, 'the fields are read, not ignored');
    });

    it('logs in with a form-urlencoded body', async () => {
      const s = await createStudent(app);
      const form = urlencoded({ username: s.user.username, password: PASSWORD });
      const res = await app.inject({ method: 'POST', url: '/api/login/', headers: form.headers, payload: form.payload });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(typeof res.json().refresh, 'string');
    });

    it('registers an instructor from a multipart body with is_instructor=True', async () => {
      const username = unique('form');
      const form = multipart({ username, email: `${username}@example.com`, password: 'violet-Sunrise-42', is_instructor: 'True' });
      const res = await app.inject({ method: 'POST', url: '/api/register/', headers: form.headers, payload: form.payload });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().role, 'instructor');
      assert.equal(res.json().is_instructor, true);
      assert.equal(res.json().instructor_status, 'pending');
    });
  });

  it('accepts multipart with text fields where a file field exists', async () => {
    const s = await createStudent(app);
    const form = multipart({ first_name: 'Form' });
    const res = await app.inject({
      method: 'PATCH',
      url: '/api/profile/',
      headers: { ...form.headers, ...s.headers },
      payload: form.payload,
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().first_name, 'Form');
  });

  it('reports every invalid field at once', async () => {
    const res = await call(app, 'POST', '/api/register/', { body: { username: 5, email: [], password: {} } });
    assert.equal(res.status, 400);
    assert.ok(res.body.email && res.body.password, JSON.stringify(res.body));
  });
});

describe('operations', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp({ CORS_ORIGINS: 'https://app.example' });
  });
  after(() => app.close());

  it('reports health and readiness', async () => {
    assert.deepEqual((await call(app, 'GET', '/health')).body, { status: 'ok' });
    assert.deepEqual((await call(app, 'GET', '/ready')).body, { status: 'ok' });
  });

  it('serves an OpenAPI 3 document that validates and covers every route', async () => {
    const res = await call(app, 'GET', '/api/schema/');
    assert.equal(res.status, 200);
    const doc = res.body;
    assert.match(doc.openapi, /^3\./);
    await SwaggerParser.validate(structuredClone(doc));
    assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    const expected = [
      '/api/register/',
      '/api/login/',
      '/api/token/refresh/',
      '/api/logout/',
      '/api/logout-all/',
      '/api/profile/',
      '/api/update-profile/',
      '/api/change-password/',
      '/api/admin/users/',
      '/api/admin/users/{id}/',
      '/api/admin/users/{id}/approve/',
      '/api/admin/users/{id}/reject/',
      '/health',
      '/ready',
    ];
    for (const path of expected) assert.ok(doc.paths[path], `schema documents ${path}`);
    const patch = doc.paths['/api/profile/'].patch;
    assert.ok(patch.requestBody.content['multipart/form-data'], 'file endpoints document multipart');
    const bodyName = String(patch.requestBody.content['multipart/form-data'].schema.$ref).split('/').pop()!;
    assert.ok(doc.components.schemas[bodyName].properties.profile_image.anyOf.some((s: { format?: string }) => s.format === 'binary'));
    assert.ok(patch.requestBody.content['application/json']);
    assert.deepEqual(doc.paths['/api/profile/'].get.security, [{ bearerAuth: [] }]);
    // Every route in the app is in the schema.
    const documented = new Set(Object.keys(doc.paths));
    const routes = app.printRoutes({ commonPrefix: false });
    for (const line of routes.split('\n')) {
      const m = /(\/api\/[^\s(]*)/.exec(line);
      if (!m || m[1]!.startsWith('/api/docs') || m[1]!.startsWith('/api/schema')) continue;
      const openapiPath = m[1]!.replace(/:(\w+)/g, '{$1}');
      assert.ok(documented.has(openapiPath) || documented.has(openapiPath + '/'), `route ${openapiPath} documented`);
    }
  });

  it('serves Swagger UI from the package, without a CDN', async () => {
    const page = await app.inject({ method: 'GET', url: '/api/docs/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.ok(!/unpkg|jsdelivr|cdnjs/.test(page.body));
    const bundle = await app.inject({ method: 'GET', url: '/api/docs/static/swagger-ui-bundle.js' });
    assert.equal(bundle.statusCode, 200);
    const init = await app.inject({ method: 'GET', url: '/api/docs/static/swagger-initializer.js' });
    assert.match(init.body, /\/api\/schema\//);
  });

  it('answers CORS preflights for configured origins only', async () => {
    const ok = await app.inject({
      method: 'OPTIONS',
      url: '/api/login/',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example');
    const other = await app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });
});

describe('failures stay inside', () => {
  it('turns a database outage into 503 on /ready and an opaque 500 elsewhere', async () => {
    const app = await buildTestApp();
    const s = await createStudent(app);
    await app.database.db.destroy();
    const ready = await call(app, 'GET', '/ready');
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body, { status: 'unavailable', checks: { database: 'unavailable' } });
    const res = await call(app, 'GET', '/api/profile/', { token: s.access });
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, { detail: 'Internal server error.' });
    assert.ok(!/destroy|kysely|stack|at /i.test(res.text));
    await app.close().catch(() => {});
  });
});

describe('throttling', () => {
  it('limits login per client address and says when to retry', async () => {
    const app = await buildTestApp({ RATE_LIMIT_LOGIN: '3/minute' });
    try {
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof call>> | undefined;
      for (let i = 0; i < 4; i++) {
        last = await call(app, 'POST', '/api/login/', { body: { username: 'nobody', password: 'whatever-pass' } });
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 429]);
      assert.ok(last);
      assert.match(last.body.detail, /throttled/);
      assert.ok(Number(last.headers['retry-after']) > 0);
      // Another address is not affected.
      const other = await app.inject({
        method: 'POST',
        url: '/api/login/',
        remoteAddress: '10.9.9.9',
        payload: { username: 'nobody', password: 'whatever-pass' },
      });
      assert.equal(other.statusCode, 401);
    } finally {
      await app.close();
    }
  });

  it('limits register and refresh with their own settings', async () => {
    const app = await buildTestApp({ RATE_LIMIT_REGISTER: '1/minute', RATE_LIMIT_REFRESH: '1/hour' });
    try {
      assert.equal((await call(app, 'POST', '/api/register/', { body: {} })).status, 400);
      assert.equal((await call(app, 'POST', '/api/register/', { body: {} })).status, 429);
      assert.equal((await call(app, 'POST', '/api/token/refresh/', { body: { refresh: 'x' } })).status, 401);
      assert.equal((await call(app, 'POST', '/api/token/refresh/', { body: { refresh: 'x' } })).status, 429);
    } finally {
      await app.close();
    }
  });

  it('gives anonymous and authenticated traffic their own rates', async () => {
    const app = await buildTestApp({ RATE_LIMIT_ANON: '2/minute', RATE_LIMIT_USER: '3/minute' });
    try {
      const anon = [];
      for (let i = 0; i < 3; i++) anon.push((await call(app, 'GET', '/api/profile/')).status);
      assert.deepEqual(anon, [401, 401, 429]);
      const s = await createStudent(app);
      const user = [];
      for (let i = 0; i < 4; i++) user.push((await call(app, 'GET', '/api/profile/', { token: s.access })).status);
      assert.deepEqual(user, [200, 200, 200, 429]);
      // Health checks are never throttled.
      for (let i = 0; i < 5; i++) assert.equal((await call(app, 'GET', '/health')).status, 200);
    } finally {
      await app.close();
    }
  });

  it('turns a limit off with "off"', async () => {
    const app = await buildTestApp({ RATE_LIMIT_LOGIN: 'off', RATE_LIMIT_ANON: 'off' });
    try {
      for (let i = 0; i < 15; i++) {
        assert.equal((await call(app, 'POST', '/api/login/', { body: { username: 'nobody', password: 'whatever-pass' } })).status, 401);
      }
    } finally {
      await app.close();
    }
  });
});
