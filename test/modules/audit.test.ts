import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { PASSWORD, createAdmin, createInstructor, createStudent, createUser, createCourse } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';

interface Entry {
  id: number;
  actor: { id: number; username: string } | null;
  action: string;
  target_type: string;
  target_id: number | null;
  data: Record<string, unknown>;
  ip: string;
  request_id: string;
  created_at: string;
}

describe('audit log', () => {
  let app: TestApp;
  let admin: TestUser;
  before(async () => {
    app = await buildTestApp();
    admin = await createAdmin(app);
  });
  after(() => app.close());

  async function as(
    user: TestUser,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: Record<string, unknown>,
    requestId?: string,
  ) {
    const res = await app.inject({
      method,
      url,
      headers: { ...user.headers, ...(requestId ? { 'x-request-id': requestId } : {}) },
      ...(payload ? { payload } : {}),
    });
    return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : undefined };
  }

  async function entries(query: string): Promise<Entry[]> {
    const res = await as(admin, 'GET', `/api/admin/audit/?page_size=100&${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body as { results: Entry[] }).results;
  }

  async function only(action: string, targetId: number, requestId: string): Promise<Entry> {
    const found = (await entries(`action=${action}&target_id=${targetId}`)).filter((e) => e.request_id === requestId);
    assert.equal(found.length, 1, `${action} on ${targetId}: ${JSON.stringify(found)}`);
    const [entry] = found;
    assert.ok(entry);
    assert.equal(entry.ip, '127.0.0.1');
    assert.deepEqual(Object.keys(entry).sort(), [
      'action',
      'actor',
      'created_at',
      'data',
      'id',
      'ip',
      'request_id',
      'target_id',
      'target_type',
    ]);
    assert.ok(entry.actor === null || !('email' in entry.actor));
    const text = JSON.stringify(entry.data).toLowerCase();
    for (const secret of [PASSWORD, 'password', 'token', 'whsec_', 'secret', '@example.com'])
      assert.equal(text.includes(secret.toLowerCase()), false, `${action}: ${text}`);
    return entry;
  }

  it('records user.approved, user.rejected, user.deactivated, user.reactivated, user.role_changed with actor, address and request id', async () => {
    const pending = await createInstructor(app, 'pending');
    const id = pending.user.id;
    assert.equal((await as(admin, 'POST', `/api/admin/users/${id}/approve/`, undefined, 'req-approve')).status, 200);
    const approved = await only('user.approved', id, 'req-approve');
    assert.equal(approved.actor?.id, admin.user.id);
    assert.equal(approved.target_type, 'user');
    assert.deepEqual(approved.data, { from: 'pending', to: 'approved' });
    assert.equal((await as(admin, 'POST', `/api/admin/users/${id}/reject/`, undefined, 'req-reject')).status, 200);
    await only('user.rejected', id, 'req-reject');
    assert.equal((await as(admin, 'PATCH', `/api/admin/users/${id}/`, { is_active: false }, 'req-deactivate')).status, 200);
    await only('user.deactivated', id, 'req-deactivate');
    assert.equal((await as(admin, 'PATCH', `/api/admin/users/${id}/`, { is_active: true }, 'req-reactivate')).status, 200);
    await only('user.reactivated', id, 'req-reactivate');
    assert.equal((await as(admin, 'PATCH', `/api/admin/users/${id}/`, { role: 'student' }, 'req-role')).status, 200);
    const role = await only('user.role_changed', id, 'req-role');
    assert.deepEqual(role.data, { from: 'instructor', to: 'student' });
    // A change that changes nothing is not an action.
    assert.equal((await as(admin, 'PATCH', `/api/admin/users/${id}/`, { is_active: true }, 'req-noop')).status, 200);
    assert.equal((await entries(`target_type=user&target_id=${id}`)).filter((e) => e.request_id === 'req-noop').length, 0);
  });

  it('records user.password_changed and user.logged_out_everywhere, with the user as actor', async () => {
    const user = await createStudent(app);
    const changed = await as(
      user,
      'POST',
      '/api/change-password/',
      { old_password: PASSWORD, new_password: 'another-long-passphrase' },
      'req-pw',
    );
    assert.equal(changed.status, 200);
    const entry = await only('user.password_changed', user.user.id, 'req-pw');
    assert.equal(entry.actor?.id, user.user.id);
    // A wrong old password records nothing.
    await as(
      user,
      'POST',
      '/api/change-password/',
      { old_password: 'wrong-password-here', new_password: 'another-long-passphrase2' },
      'req-pw-bad',
    );
    assert.equal((await entries(`action=user.password_changed&target_id=${user.user.id}`)).length, 1);
    const other = await createStudent(app);
    assert.equal((await as(other, 'POST', '/api/logout-all/', undefined, 'req-logout-all')).status, 205);
    await only('user.logged_out_everywhere', other.user.id, 'req-logout-all');
  });

  it('records course.published, course.unpublished, course.deleted and category.created/updated/deleted', async () => {
    const owner = await createInstructor(app);
    const course = await createCourse(app, { instructor: owner, is_published: false });
    assert.equal((await as(owner, 'PATCH', `/api/courses/${course.id}/`, { is_published: true }, 'req-pub')).status, 200);
    assert.equal((await only('course.published', course.id, 'req-pub')).actor?.id, owner.user.id);
    assert.equal((await as(owner, 'PATCH', `/api/courses/${course.id}/`, { is_published: false }, 'req-unpub')).status, 200);
    await only('course.unpublished', course.id, 'req-unpub');
    assert.equal((await as(admin, 'DELETE', `/api/courses/${course.id}/`, undefined, 'req-del')).status, 204);
    assert.equal((await only('course.deleted', course.id, 'req-del')).actor?.id, admin.user.id);

    const created = await as(admin, 'POST', '/api/categories/', { name: 'Audited category' }, 'req-cat');
    assert.equal(created.status, 201);
    const categoryId = Number(created.body?.id);
    await only('category.created', categoryId, 'req-cat');
    assert.equal((await as(admin, 'PATCH', `/api/categories/${categoryId}/`, { description: 'changed' }, 'req-cat-up')).status, 200);
    assert.deepEqual((await only('category.updated', categoryId, 'req-cat-up')).data, { description: 'changed' });
    assert.equal((await as(admin, 'DELETE', `/api/categories/${categoryId}/`, undefined, 'req-cat-del')).status, 204);
    await only('category.deleted', categoryId, 'req-cat-del');
    // A refused delete (courses filed under it) records nothing.
    const busy = await createCourse(app);
    await as(admin, 'DELETE', `/api/categories/${busy.category_id}/`, undefined, 'req-cat-busy');
    assert.equal((await entries(`action=category.deleted&target_id=${busy.category_id}`)).length, 0);
  });

  it('filters by actor, action, target, from and to; newest first; bad dates 400', async () => {
    const all = await entries('');
    assert.ok(all.length > 5);
    const times = all.map((e) => Date.parse(e.created_at));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
    const byActor = await entries(`actor=${admin.user.id}`);
    assert.ok(byActor.length > 0 && byActor.every((e) => e.actor?.id === admin.user.id));
    assert.ok((await entries('target_type=category')).every((e) => e.target_type === 'category'));
    assert.equal((await entries('from=2999-01-01')).length, 0);
    assert.equal((await entries('to=2000-01-01T00:00:00Z')).length, 0);
    const today = new Date().toISOString().slice(0, 10);
    assert.equal((await entries(`from=${today}&to=${today}`)).length, Math.min(all.length, 100));
    for (const bad of ['from=yesterday', 'to=2026-02-30', 'from=2026-01-01T99:00']) {
      const res = await as(admin, 'GET', `/api/admin/audit/?${bad}`);
      assert.equal(res.status, 400, bad);
      assert.ok((bad.split('=')[0] as string) in (res.body as object));
    }
    assert.equal((await as(admin, 'GET', '/api/admin/audit/?actor=abc')).status, 400);
    assert.equal((await as(admin, 'GET', '/api/admin/audit/?page=999999999')).status, 404);
  });

  it("is admins' only and append-only: no endpoint changes or deletes an entry", async () => {
    const instructor = await createUser(app, { role: 'instructor' });
    assert.equal((await as(instructor, 'GET', '/api/admin/audit/')).status, 403);
    assert.equal((await app.inject({ method: 'GET', url: '/api/admin/audit/' })).statusCode, 401);
    const [first] = await entries('');
    for (const method of ['POST', 'PATCH', 'DELETE'] as const) {
      const res = await as(admin, method, '/api/admin/audit/', {});
      assert.ok([404, 405].includes(res.status), `${method} ${res.status}`);
      const one = await as(admin, method, `/api/admin/audit/${first?.id}/`, {});
      assert.ok([404, 405].includes(one.status), `${method} one ${one.status}`);
    }
    const [again] = await entries('');
    assert.deepEqual(again, first);
  });
});
