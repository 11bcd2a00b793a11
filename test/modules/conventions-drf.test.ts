import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createAdmin, createInstructor, createStudent, PASSWORD, createCategory, createCourse } from '../helpers/factories.js';
import { call, multipart } from '../helpers/http.js';
import { parseForm } from '../../src/plugins/forms.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;

describe('DRF conventions: form bodies, boolean literals, NUL characters, tokens', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  it('accepts application/x-www-form-urlencoded bodies (register, login, refresh)', async () => {
    const reg = await app.inject({
      method: 'POST',
      url: '/api/register/',
      headers: FORM,
      payload: form({ username: 'formuser', email: 'formuser@example.com', password: PASSWORD, first_name: 'Form' }),
    });
    assert.equal(reg.statusCode, 201, reg.body);
    assert.equal(reg.json().first_name, 'Form');
    const login = await app.inject({
      method: 'POST',
      url: '/api/login/',
      headers: FORM,
      payload: form({ username: 'formuser', password: PASSWORD }),
    });
    assert.equal(login.statusCode, 200, login.body);
    const refresh = await app.inject({
      method: 'POST',
      url: '/api/token/refresh/',
      headers: FORM,
      payload: form({ refresh: login.json().refresh }),
    });
    assert.equal(refresh.statusCode, 200, refresh.body);
  });

  it('validates form bodies like JSON ones (a missing field is a 400 on it)', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/login/', headers: FORM, payload: form({ username: 'x' }) });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(Object.keys(res.json()), ['password']);
  });

  it('takes DRF boolean literals and numbers from a form body (PATCH a course)', async () => {
    const teacher = await createInstructor(app);
    const course = await createCourse(app, { instructor: teacher, is_published: false });
    for (const [literal, expected] of [
      ['True', true],
      ['off', false],
      ['on', true],
      ['0', false],
      ['1', true],
      ['False', false],
    ] as const) {
      const res = await app.inject({
        method: 'PATCH',
        url: `/api/courses/${course.id}/`,
        headers: { ...FORM, ...teacher.headers },
        payload: form({ is_published: literal, price: '12.50' }),
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().is_published, expected, literal);
      assert.equal(res.json().price, '12.50');
    }
    const bad = await app.inject({
      method: 'PATCH',
      url: `/api/courses/${course.id}/`,
      headers: { ...FORM, ...teacher.headers },
      payload: form({ is_published: 'maybe' }),
    });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(Object.keys(bad.json()), ['is_published']);
  });

  it('takes DRF boolean literals in multipart bodies, as Python requests sends them', async () => {
    const teacher = await createInstructor(app);
    const category = await createCategory(app);
    for (const [literal, expected] of [
      ['True', true],
      ['on', true],
      ['False', false],
      ['off', false],
    ] as const) {
      const body = multipart({
        title: `Multipart ${literal}`,
        description: 'd',
        price: '0',
        category: String(category.id),
        is_published: literal,
      });
      const res = await app.inject({
        method: 'POST',
        url: '/api/courses/',
        headers: { ...body.headers, ...teacher.headers },
        payload: body.payload,
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().is_published, expected, literal);
    }
    const body = multipart({ title: 'Bad flag', description: 'd', price: '0', category: String(category.id), is_published: 'perhaps' });
    const bad = await app.inject({
      method: 'POST',
      url: '/api/courses/',
      headers: { ...body.headers, ...teacher.headers },
      payload: body.payload,
    });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(Object.keys(bad.json()), ['is_published']);
  });

  it('takes DRF boolean literals in boolean query parameters', async () => {
    const teacher = await createInstructor(app);
    const free = await createCourse(app, { instructor: teacher, price_cents: 0, title: 'Zero cost course' });
    const paid = await createCourse(app, { instructor: teacher, price_cents: 500 });
    for (const literal of ['True', 'on', '1', 'true']) {
      const res = await call(app, 'GET', `/api/courses/?is_free=${literal}&page_size=100`);
      assert.equal(res.status, 200, literal);
      const ids = res.body.results.map((c: { id: number }) => c.id);
      assert.ok(ids.includes(free.id) && !ids.includes(paid.id), literal);
    }
    for (const literal of ['False', 'off', '0']) {
      const res = await call(app, 'GET', `/api/courses/?is_free=${literal}&page_size=100`);
      const ids = res.body.results.map((c: { id: number }) => c.id);
      assert.ok(!ids.includes(free.id) && ids.includes(paid.id), literal);
    }
    const bad = await call(app, 'GET', '/api/courses/?is_free=perhaps');
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.body), ['is_free']);

    const admin = await createAdmin(app);
    const gone = await createStudent(app);
    await call(app, 'PATCH', `/api/admin/users/${gone.user.id}/`, { token: admin.access, body: { is_active: false } });
    const inactive = await call(app, 'GET', '/api/admin/users/?is_active=False&page_size=100', { token: admin.access });
    assert.equal(inactive.status, 200);
    assert.deepEqual(
      inactive.body.results.map((u: { id: number }) => u.id),
      [gone.user.id],
    );
  });

  it('reads the course list flags as DRF booleans in any case, empty as not given, anything else a 400 on each', async () => {
    const teacher = await createInstructor(app);
    const admin = await createAdmin(app);
    const free = await createCourse(app, { instructor: teacher, price_cents: 0 });
    const paid = await createCourse(app, { instructor: teacher, price_cents: 700 });
    const draft = await createCourse(app, { instructor: teacher, is_published: false });
    const ids = async (query: string, as = teacher) => {
      const res = await call(app, 'GET', `/api/courses/?page_size=100&${query}`, { as });
      assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
      return res.body.results.map((c: { id: number }) => c.id) as number[];
    };
    const everything = await ids('');
    assert.ok(everything.includes(free.id) && everything.includes(paid.id) && !everything.includes(draft.id));
    for (const literal of ['tRuE', 'TRUE', 'ON', '%20true%20', 'Yes']) {
      const found = await ids(`is_free=${literal}`);
      assert.ok(found.includes(free.id) && !found.includes(paid.id), literal);
    }
    for (const literal of ['FaLsE', 'FALSE', 'Off', 'No']) {
      const found = await ids(`is_free=${literal}`);
      assert.ok(!found.includes(free.id) && found.includes(paid.id), literal);
    }
    assert.deepEqual((await ids('mine=True')).sort(), [free.id, paid.id, draft.id].sort());
    assert.deepEqual(await ids('mine=0&is_free=%20'), everything, 'mine=0 is the public list; an empty flag filters nothing');
    assert.deepEqual(await ids('is_published=False'), [draft.id], 'their own drafts');
    assert.ok((await ids('is_published=fAlSe', admin)).includes(draft.id), 'every draft for an admin');
    assert.deepEqual(await ids('is_published=&mine='), everything);

    const bad = await call(app, 'GET', '/api/courses/?is_free=perhaps&mine=2&is_published=truthy');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, {
      is_free: ['Must be a valid boolean.'],
      mine: ['Must be a valid boolean.'],
      is_published: ['Must be a valid boolean.'],
    });
  });

  it('answers text with a NUL character with a 400 on its field: JSON, form, multipart and query', async () => {
    const json = await call(app, 'POST', '/api/register/', {
      body: { username: 'nul\u0000user', email: 'nul@example.com', password: PASSWORD },
    });
    assert.equal(json.status, 400);
    assert.deepEqual(json.body, { username: ['Null characters are not allowed.'] });
    assert.equal(json.headers['x-error-code'], 'null_characters_not_allowed');

    const teacher = await createInstructor(app);
    const course = await createCourse(app, { instructor: teacher });
    const patch = await call(app, 'PATCH', `/api/courses/${course.id}/`, {
      token: teacher.access,
      body: { description: 'ok', title: 'a\u0000b' },
    });
    assert.equal(patch.status, 400);
    assert.deepEqual(patch.body, { title: ['Null characters are not allowed.'] });

    const viaForm = await app.inject({ method: 'POST', url: '/api/login/', headers: FORM, payload: 'username=a%00b&password=x' });
    assert.equal(viaForm.statusCode, 400);
    assert.deepEqual(viaForm.json(), { username: ['Null characters are not allowed.'] });

    const body = multipart({ title: 'x\u0000y', description: 'd', price: '1', category: String(course.category_id) });
    const viaMultipart = await app.inject({
      method: 'POST',
      url: '/api/courses/',
      headers: { ...body.headers, ...teacher.headers },
      payload: body.payload,
    });
    assert.equal(viaMultipart.statusCode, 400);
    assert.deepEqual(viaMultipart.json(), { title: ['Null characters are not allowed.'] });

    const query = await call(app, 'GET', '/api/courses/?search=py%00thon');
    assert.equal(query.status, 400);
    assert.deepEqual(query.body, { search: ['Null characters are not allowed.'] });
    // Nothing was written.
    const after = await call(app, 'GET', `/api/courses/${course.id}/`);
    assert.equal(after.body.title, course.title);
  });

  it('reads repeated form keys as a list only where the schema says array', () => {
    const schema = { type: 'object', properties: { lessons: { type: 'array', items: { type: 'integer' } }, title: { type: 'string' } } };
    assert.deepEqual(parseForm('lessons=3&lessons=1&title=a&title=b', schema), { lessons: ['3', '1'], title: 'b' });
    assert.deepEqual(parseForm('lessons=3', schema), { lessons: ['3'] });
  });

  it("puts SimpleJWT's user_id claim in access tokens, keeping sub", async () => {
    const student = await createStudent(app);
    const login = await call(app, 'POST', '/api/login/', { body: { username: student.user.username, password: PASSWORD } });
    const claims = claimsOf(login.body.access);
    assert.equal(claims.user_id, student.user.id);
    assert.equal(claims.sub, String(student.user.id));
  });

  it('accepts multipart bodies on routes without file fields, and refuses a file there with a 400 on the field', async () => {
    const form = multipart({ username: 'nobody-here', password: 'whatever-it-is' });
    const res = await app.inject({ method: 'POST', url: '/api/login/', headers: form.headers, payload: form.payload });
    assert.equal(res.statusCode, 401, res.body);
    const withFile = multipart(
      { username: 'x' },
      { password: { filename: 'p.txt', contentType: 'text/plain', data: Buffer.from('secret') } },
    );
    const refused = await app.inject({ method: 'POST', url: '/api/login/', headers: withFile.headers, payload: withFile.payload });
    assert.equal(refused.statusCode, 400, refused.body);
    assert.ok(refused.json<Record<string, unknown>>().password);
  });
});

describe('a refresh interceptor sees token_not_valid on an expired access token', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp({ ACCESS_TOKEN_TTL: '1' });
  });
  after(() => app.close());

  it('answers 401 with code token_not_valid and messages, and the refresh token still works', async () => {
    const student = await createStudent(app);
    const login = await call(app, 'POST', '/api/login/', { body: { username: student.user.username, password: PASSWORD } });
    await sleep(1500);
    const expired = await call(app, 'GET', '/api/profile/', { token: login.body.access });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.code, 'token_not_valid');
    assert.equal(expired.headers['x-error-code'], 'token_not_valid');
    assert.ok(Array.isArray(expired.body.messages) && expired.body.messages[0].token_type === 'access');
    assert.match(String(expired.headers['www-authenticate']), /^Bearer/);
    // What the interceptor does next: refresh and retry.
    const refreshed = await call(app, 'POST', '/api/token/refresh/', { body: { refresh: login.body.refresh } });
    assert.equal(refreshed.status, 200);
    const retried = await call(app, 'GET', '/api/profile/', { token: refreshed.body.access });
    assert.equal(retried.status, 200);
  });
});

describe('CORS for a browser front end', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp({ CORS_ORIGINS: 'http://front.example' });
  });
  after(() => app.close());

  it('allows every method the API uses and the headers clients send', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await app.inject({
        method: 'OPTIONS',
        url: '/api/courses/1/',
        headers: {
          origin: 'http://front.example',
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization,content-type,if-none-match,if-match',
        },
      });
      assert.equal(res.statusCode, 204);
      assert.equal(res.headers['access-control-allow-origin'], 'http://front.example');
      assert.ok(
        String(res.headers['access-control-allow-methods'])
          .split(/\s*,\s*/)
          .includes(method),
        method,
      );
      const allowed = String(res.headers['access-control-allow-headers'])
        .toLowerCase()
        .split(/\s*,\s*/);
      for (const h of ['authorization', 'content-type', 'if-none-match', 'if-match']) assert.ok(allowed.includes(h), h);
    }
  });

  it('exposes the headers clients read, and not to other origins', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/courses/', headers: { origin: 'http://front.example' } });
    const exposed = String(res.headers['access-control-expose-headers'])
      .toLowerCase()
      .split(/\s*,\s*/);
    for (const h of ['x-request-id', 'retry-after', 'etag', 'x-error-code']) assert.ok(exposed.includes(h), h);
    const other = await app.inject({ method: 'GET', url: '/api/courses/', headers: { origin: 'http://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });
});
