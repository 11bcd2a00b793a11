import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import type { TestUser } from '../helpers/factories.js';
import { PASSWORD, unique, createUser, createStudent, createInstructor, createAdmin } from '../helpers/factories.js';
import { call } from '../helpers/http.js';

describe('admin users', () => {
  let app: TestApp;
  let admin: TestUser;
  before(async () => {
    app = await buildTestApp();
    admin = await createAdmin(app);
  });
  after(() => app.close());

  it('is for admins only: anonymous 401, students and instructors 403', async () => {
    const student = await createStudent(app);
    const instructor = await createInstructor(app);
    const target = await createStudent(app);
    const calls: [string, string, unknown?][] = [
      ['GET', '/api/admin/users/'],
      ['GET', `/api/admin/users/${target.user.id}/`],
      ['PATCH', `/api/admin/users/${target.user.id}/`, { is_active: false }],
      ['POST', `/api/admin/users/${target.user.id}/approve/`, {}],
      ['POST', `/api/admin/users/${target.user.id}/reject/`, {}],
    ];
    for (const [method, url, body] of calls) {
      assert.equal((await call(app, method as 'GET', url, { body })).status, 401, `${method} ${url}`);
      for (const who of [student, instructor]) {
        const res = await call(app, method, url, { token: who.access, body });
        assert.equal(res.status, 403, `${method} ${url} as ${who.user.role}`);
        assert.equal(typeof res.body.detail, 'string');
      }
    }
    const after = await call(app, 'GET', `/api/admin/users/${target.user.id}/`, { token: admin.access });
    assert.equal(after.body.is_active, true);
  });

  it('lists users with filters, search and ordering', async () => {
    const tag = unique('zz');
    const made = [
      await createUser(app, { role: 'instructor', instructor_status: 'pending', username: `${tag}-b`, email: `${tag}-b@example.com` }),
      await createUser(app, { role: 'student', username: `${tag}-a`, email: `${tag}-a@example.com` }),
      await createUser(app, { role: 'student', username: `${tag}-c`, email: `c-${tag}@mail.test`, is_active: false }),
    ];
    const search = await call(app, 'GET', `/api/admin/users/?search=${tag}&ordering=username`, { token: admin.access });
    assert.equal(search.status, 200);
    assert.equal(search.body.count, 3);
    assert.deepEqual(
      search.body.results.map((u: { username: string }) => u.username),
      [`${tag}-a`, `${tag}-b`, `${tag}-c`],
    );
    const desc = await call(app, 'GET', `/api/admin/users/?search=${tag}&ordering=-username`, { token: admin.access });
    assert.deepEqual(
      desc.body.results.map((u: { username: string }) => u.username),
      [`${tag}-c`, `${tag}-b`, `${tag}-a`],
    );
    const byEmail = await call(app, 'GET', `/api/admin/users/?search=mail.test`, { token: admin.access });
    assert.ok(byEmail.body.results.some((u: { id: number }) => u.id === made[2]!.user.id));

    const pending = await call(app, 'GET', `/api/admin/users/?instructor_status=pending&search=${tag}`, { token: admin.access });
    assert.deepEqual(
      pending.body.results.map((u: { id: number }) => u.id),
      [made[0]!.user.id],
    );
    const students = await call(app, 'GET', `/api/admin/users/?role=student&search=${tag}&ordering=date_joined`, { token: admin.access });
    assert.deepEqual(
      students.body.results.map((u: { id: number }) => u.id),
      [made[1]!.user.id, made[2]!.user.id],
    );
    const inactive = await call(app, 'GET', `/api/admin/users/?is_active=false&search=${tag}`, { token: admin.access });
    assert.deepEqual(
      inactive.body.results.map((u: { id: number }) => u.id),
      [made[2]!.user.id],
    );
    const active = await call(app, 'GET', `/api/admin/users/?is_active=true&search=${tag}`, { token: admin.access });
    assert.equal(active.body.count, 2);

    // The admin view shows emails (it is the full user).
    assert.ok(search.body.results.every((u: { email: string }) => u.email.includes(tag)));
  });

  it('refuses invalid filters and orderings with 400 on the parameter', async () => {
    const badRole = await call(app, 'GET', '/api/admin/users/?role=wizard', { token: admin.access });
    assert.equal(badRole.status, 400);
    assert.ok(badRole.body.role);
    const badOrder = await call(app, 'GET', '/api/admin/users/?ordering=password_hash', { token: admin.access });
    assert.equal(badOrder.status, 400);
    assert.ok(badOrder.body.ordering);
    const badBool = await call(app, 'GET', '/api/admin/users/?is_active=maybe', { token: admin.access });
    assert.equal(badBool.status, 400);
    assert.ok(badBool.body.is_active);
  });

  it('paginates DRF-style', async () => {
    const tag = unique('pg');
    for (let i = 0; i < 3; i++) await createUser(app, { username: `${tag}-${i}` });
    const first = await call(app, 'GET', `/api/admin/users/?search=${tag}&page_size=2&ordering=username`, { token: admin.access });
    assert.equal(first.body.count, 3);
    assert.equal(first.body.previous, null);
    assert.match(first.body.next, /page=2/);
    assert.match(first.body.next, /^http:\/\//);
    assert.equal(first.body.results.length, 2);
    const second = await call(app, 'GET', new URL(first.body.next).pathname + new URL(first.body.next).search, { token: admin.access });
    assert.equal(second.body.results.length, 1);
    assert.equal(second.body.next, null);
    assert.ok(second.body.previous);
    assert.ok(!new URL(second.body.previous).searchParams.has('page'), 'page 1 link drops page');
    const past = await call(app, 'GET', `/api/admin/users/?search=${tag}&page=3&page_size=2`, { token: admin.access });
    assert.equal(past.status, 404);
    assert.deepEqual(past.body, { detail: 'Invalid page.' });
    const junkPage = await call(app, 'GET', `/api/admin/users/?search=${tag}&page=abc`, { token: admin.access });
    assert.equal(junkPage.status, 404);
    const junkSize = await call(app, 'GET', `/api/admin/users/?search=${tag}&page_size=abc`, { token: admin.access });
    assert.equal(junkSize.status, 200);
    assert.equal(junkSize.body.results.length, 3);
    const capped = await call(app, 'GET', `/api/admin/users/?page_size=1000`, { token: admin.access });
    assert.ok(capped.body.results.length <= 100);
  });

  it('shows one user, 404 for an unknown id', async () => {
    const s = await createStudent(app);
    const res = await call(app, 'GET', `/api/admin/users/${s.user.id}/`, { token: admin.access });
    assert.equal(res.status, 200);
    assert.equal(res.body.email, s.user.email);
    assert.equal((await call(app, 'GET', '/api/admin/users/999999/', { token: admin.access })).status, 404);
    assert.equal((await call(app, 'GET', '/api/admin/users/abc/', { token: admin.access })).status, 404);
  });

  it('approves and rejects instructors; refuses for a non-instructor', async () => {
    const pending = await createInstructor(app, 'pending');
    const approved = await call(app, 'POST', `/api/admin/users/${pending.user.id}/approve/`, { token: admin.access, body: {} });
    assert.equal(approved.status, 200);
    assert.equal(approved.body.instructor_status, 'approved');
    // Approval is read from the database: the instructor's current token keeps working.
    assert.equal((await call(app, 'GET', '/api/profile/', { token: pending.access })).body.instructor_status, 'approved');
    const rejected = await call(app, 'POST', `/api/admin/users/${pending.user.id}/reject/`, { token: admin.access, body: {} });
    assert.equal(rejected.status, 200);
    assert.equal(rejected.body.instructor_status, 'rejected');
    const student = await createStudent(app);
    const refused = await call(app, 'POST', `/api/admin/users/${student.user.id}/approve/`, { token: admin.access, body: {} });
    assert.equal(refused.status, 400);
    assert.equal(typeof refused.body.detail, 'string');
    assert.equal((await call(app, 'POST', '/api/admin/users/999999/approve/', { token: admin.access, body: {} })).status, 404);
  });

  it('deactivation revokes every session at once and blocks login', async () => {
    const s = await createStudent(app);
    const second = await call(app, 'POST', '/api/login/', { body: { username: s.user.username, password: PASSWORD } });
    const res = await call(app, 'PATCH', `/api/admin/users/${s.user.id}/`, { token: admin.access, body: { is_active: false } });
    assert.equal(res.status, 200);
    assert.equal(res.body.is_active, false);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: s.access })).status, 401);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: second.body.access })).status, 401);
    assert.equal((await call(app, 'POST', '/api/token/refresh/', { body: { refresh: second.body.refresh } })).status, 401);
    assert.equal((await call(app, 'POST', '/api/login/', { body: { username: s.user.username, password: PASSWORD } })).status, 401);
    const back = await call(app, 'PATCH', `/api/admin/users/${s.user.id}/`, { token: admin.access, body: { is_active: true } });
    assert.equal(back.body.is_active, true);
    assert.equal((await call(app, 'POST', '/api/login/', { body: { username: s.user.username, password: PASSWORD } })).status, 200);
  });

  it('changes role and names; a role change ends the sessions holding the old role', async () => {
    const s = await createStudent(app);
    const res = await call(app, 'PATCH', `/api/admin/users/${s.user.id}/`, {
      token: admin.access,
      body: { role: 'instructor', first_name: 'New', last_name: 'Name', bio: 'Teaches' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.role, 'instructor');
    assert.equal(res.body.is_instructor, true);
    assert.equal(res.body.instructor_status, 'pending');
    assert.equal(res.body.first_name, 'New');
    assert.equal((await call(app, 'GET', '/api/profile/', { token: s.access })).status, 401);
    const bad = await call(app, 'PATCH', `/api/admin/users/${s.user.id}/`, { token: admin.access, body: { role: 'emperor' } });
    assert.equal(bad.status, 400);
    assert.ok(bad.body.role);
  });

  it('does not let an admin lock themselves out', async () => {
    const me = await createAdmin(app);
    const off = await call(app, 'PATCH', `/api/admin/users/${me.user.id}/`, { token: me.access, body: { is_active: false } });
    assert.equal(off.status, 400);
    const demote = await call(app, 'PATCH', `/api/admin/users/${me.user.id}/`, { token: me.access, body: { role: 'student' } });
    assert.equal(demote.status, 400);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: me.access })).status, 200);
  });
});

describe('instructor auto-approval', () => {
  it('starts instructors approved when INSTRUCTOR_AUTO_APPROVE is on', async () => {
    const app = await buildTestApp({ INSTRUCTOR_AUTO_APPROVE: 'true' });
    try {
      const username = unique('auto');
      const res = await call(app, 'POST', '/api/register/', {
        body: { username, email: `${username}@example.com`, password: 'violet-Sunrise-42', role: 'instructor' },
      });
      assert.equal(res.body.instructor_status, 'approved');
    } finally {
      await app.close();
    }
  });
});
