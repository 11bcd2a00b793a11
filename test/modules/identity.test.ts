import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createAdmin, createStudent } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import { call, multipart } from '../helpers/http.js';

const PASSWORD = 'sturdy-lantern-42';
const register = (app: TestApp, username: string, email: string) =>
  call(app, 'POST', '/api/register/', { body: { username, email, password: PASSWORD } });
const login = (app: TestApp, username: string) => call(app, 'POST', '/api/login/', { body: { username, password: PASSWORD } });

describe('identity: names unique ignoring case in any script, logins unambiguous, updates with nothing to write', () => {
  let app: TestApp;
  let admin: TestUser;

  before(async () => {
    app = await buildTestApp();
    admin = await createAdmin(app);
  });
  after(() => app.close());

  it('an email differing only in non-ASCII case is taken, and email login reaches the one account', async () => {
    const first = await register(app, 'anne1', 'ÄNNE@example.com');
    assert.equal(first.status, 201);
    for (const email of ['ÄNNE@example.com', 'änne@example.com', 'Änne@Example.COM']) {
      const again = await register(app, `anne${email.length}x`, email);
      assert.equal(again.status, 400, email);
      assert.ok(again.body.email, email);
    }
    const byEmail = await login(app, 'änne@example.com');
    assert.equal(byEmail.status, 200);
    const me = await call(app, 'GET', '/api/profile/', { token: byEmail.body.access });
    assert.equal(me.body.id, first.body.id);
  });

  it('compatibility forms and dotted capitals never reach a 500 and fold the same on both databases', async () => {
    assert.equal((await register(app, 'ixuser', 'ix@example.com')).status, 201);
    const dotted = await register(app, 'ixuser2', 'İX@example.com');
    assert.ok(dotted.status === 201 || dotted.status === 400, String(dotted.status));
    assert.equal((await register(app, 'ﬀuser', 'ff1@example.com')).status, 201);
    const folded = await register(app, 'FFUSER', 'ff2@example.com');
    assert.equal(folded.status, 400);
    assert.ok(folded.body.username);
  });

  it('usernames differing only in non-ASCII case are one name', async () => {
    assert.equal((await register(app, 'Ärzte', 'arzt1@example.com')).status, 201);
    const again = await register(app, 'ärzte', 'arzt2@example.com');
    assert.equal(again.status, 400);
    assert.ok(again.body.username);
    assert.equal((await login(app, 'ÄRZTE')).status, 200);
  });

  it('category names differing only in non-ASCII case clash (400), and the category filter finds either spelling', async () => {
    const first = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: 'Ärzte' } });
    assert.equal(first.status, 201);
    const second = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: 'ärzte' } });
    assert.equal(second.status, 400);
    assert.ok(second.body.name);
    const list = await call(app, 'GET', '/api/courses/?category=%C3%A4RZTE');
    assert.equal(list.status, 200);
  });

  it("a username may not look like an email, so nobody can take over another account's email login", async () => {
    const victim = await register(app, 'victim', 'victim@example.com');
    assert.equal(victim.status, 201);
    const squat = await register(app, 'victim@example.com', 'squatter@example.com');
    assert.equal(squat.status, 400);
    assert.ok(squat.body.username);
    const other = await register(app, 'boss@corp.example', 'boss2@example.com');
    assert.equal(other.status, 400);
    const byEmail = await login(app, 'victim@example.com');
    assert.equal(byEmail.status, 200);
    const me = await call(app, 'GET', '/api/profile/', { token: byEmail.body.access });
    assert.equal(me.body.id, victim.body.id);
    // An @ that does not make an email stays a username, and logs in as one.
    assert.equal((await register(app, 'at@home', 'athome@example.com')).status, 201);
    assert.equal((await login(app, 'at@home')).status, 200);
  });

  describe('an update with nothing writable answers 200 with the object unchanged', () => {
    let student: TestUser;
    before(async () => {
      student = await createStudent(app);
    });

    it('PATCH and PUT of the profile with {} or only read-only fields', async () => {
      const before = await call(app, 'GET', '/api/profile/', { token: student.access });
      for (const body of [{}, { role: 'admin' }, { username: 'someone-else', is_staff: true, instructor_status: 'approved' }]) {
        const res = await call(app, 'PATCH', '/api/profile/', { token: student.access, body });
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.deepEqual(res.body, before.body);
      }
      const form = multipart({ nickname: 'x' });
      const res = await app.inject({
        method: 'PATCH',
        url: '/api/update-profile/',
        headers: { ...form.headers, authorization: `Bearer ${student.access}` },
        payload: form.payload,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), before.body);
    });

    it('PATCH of a user by an admin with {}', async () => {
      const res = await call(app, 'PATCH', `/api/admin/users/${student.user.id}/`, { token: admin.access, body: {} });
      assert.equal(res.status, 200);
      assert.equal(res.body.id, student.user.id);
    });

    it('PATCH of a category with {}', async () => {
      const created = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: 'Unchanged' } });
      const res = await call(app, 'PATCH', `/api/categories/${created.body.id}/`, { token: admin.access, body: {} });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, created.body);
    });
  });
});
