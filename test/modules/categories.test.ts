import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import type { TestUser } from '../helpers/factories.js';
import { createStudent, createInstructor, createAdmin, createCategory, createCourse } from '../helpers/factories.js';
import { call } from '../helpers/http.js';

describe('categories', () => {
  let app: TestApp;
  let admin: TestUser;
  let instructor: TestUser;
  let student: TestUser;

  before(async () => {
    app = await buildTestApp();
    admin = await createAdmin(app);
    instructor = await createInstructor(app);
    student = await createStudent(app);
  });
  after(() => app.close());

  it('creates a category with a slug as Django slugifies the name', async () => {
    const res = await call(app, 'POST', '/api/categories/', {
      token: admin.access,
      body: { name: 'Data Science & AI', description: 'Numbers' },
    });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['courses_count', 'description', 'id', 'name', 'slug']);
    assert.equal(res.body.slug, 'data-science-ai');
    assert.equal(res.body.name, 'Data Science & AI');
    assert.equal(res.body.courses_count, 0);
    const accents = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: '  Café -- Crème_brûlée__ ' } });
    assert.equal(accents.status, 201, accents.text);
    assert.equal(accents.body.name, 'Café -- Crème_brûlée__', 'the name is trimmed');
    assert.equal(accents.body.slug, 'cafe-creme_brulee');
    assert.equal(accents.body.description, '');
  });

  it('refuses a name that exists ignoring case, a blank or an overlong name', async () => {
    await createCategory(app, { name: 'Photography' });
    const duplicate = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: 'PHOTOGRAPHY' } });
    assert.equal(duplicate.status, 400);
    assert.deepEqual(duplicate.body, { name: ['category with this name already exists.'] });
    const blank = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: '   ' } });
    assert.equal(blank.status, 400);
    assert.deepEqual(Object.keys(blank.body), ['name']);
    const long = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: 'x'.repeat(101) } });
    assert.equal(long.status, 400);
    assert.deepEqual(Object.keys(long.body), ['name']);
    const missing = await call(app, 'POST', '/api/categories/', { token: admin.access, body: {} });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { name: ['This field is required.'] });
  });

  it('numbers a slug that another name already produced', async () => {
    const first = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: 'C' } });
    const second = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: 'C++' } });
    const third = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: 'C#' } });
    assert.deepEqual([first.body.slug, second.body.slug, third.body.slug], ['c', 'c-2', 'c-3']);
  });

  it('lets only admins write', async () => {
    const category = await createCategory(app);
    const body = { name: 'Anything at all' };
    for (const [who, token, status] of [
      ['anonymous', undefined, 401],
      ['student', student.access, 403],
      ['instructor', instructor.access, 403],
    ] as const) {
      const create = await call(app, 'POST', '/api/categories/', { token, body });
      assert.equal(create.status, status, `${who} create`);
      const patch = await call(app, 'PATCH', `/api/categories/${category.id}/`, { token, body });
      assert.equal(patch.status, status, `${who} patch`);
      const put = await call(app, 'PUT', `/api/categories/${category.id}/`, { token, body });
      assert.equal(put.status, status, `${who} put`);
      const del = await call(app, 'DELETE', `/api/categories/${category.id}/`, { token });
      assert.equal(del.status, status, `${who} delete`);
    }
    const unchanged = await call(app, 'GET', `/api/categories/${category.id}/`);
    assert.equal(unchanged.body.name, category.name);
  });

  it('renames with a new slug, keeps the name on PATCH of the description, and requires the name on PUT', async () => {
    const category = await createCategory(app, { name: 'Web Dev' });
    const renamed = await call(app, 'PATCH', `/api/categories/${category.id}/`, { token: admin.access, body: { name: 'Web Development' } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.slug, 'web-development');
    const described = await call(app, 'PATCH', `/api/categories/${category.id}/`, { token: admin.access, body: { description: 'HTML' } });
    assert.equal(described.body.name, 'Web Development');
    assert.equal(described.body.description, 'HTML');
    const put = await call(app, 'PUT', `/api/categories/${category.id}/`, { token: admin.access, body: { description: 'x' } });
    assert.equal(put.status, 400);
    assert.deepEqual(put.body, { name: ['This field is required.'] });
    const caseOnly = await call(app, 'PATCH', `/api/categories/${category.id}/`, {
      token: admin.access,
      body: { name: 'web development' },
    });
    assert.equal(caseOnly.status, 200, 'its own name in another case is not a duplicate');
    await createCategory(app, { name: 'Taken Name' });
    const clash = await call(app, 'PATCH', `/api/categories/${category.id}/`, { token: admin.access, body: { name: 'taken name' } });
    assert.equal(clash.status, 400);
    assert.deepEqual(Object.keys(clash.body), ['name']);
  });

  it('counts published courses only, following publish, unpublish, moves and deletes', async () => {
    const category = await createCategory(app);
    const other = await createCategory(app);
    await createCourse(app, { instructor, category_id: category.id, is_published: true });
    const draft = await createCourse(app, { instructor, category_id: category.id, is_published: false });
    const count = async (id: number) => (await call(app, 'GET', `/api/categories/${id}/`)).body.courses_count;
    assert.equal(await count(category.id), 1, 'a draft is not counted');

    const publish = await call(app, 'PATCH', `/api/courses/${draft.id}/`, { token: instructor.access, body: { is_published: true } });
    assert.equal(publish.status, 200, publish.text);
    assert.equal(await count(category.id), 2);
    await call(app, 'PATCH', `/api/courses/${draft.id}/`, { token: instructor.access, body: { category: other.id } });
    assert.deepEqual([await count(category.id), await count(other.id)], [1, 1]);
    await call(app, 'PATCH', `/api/courses/${draft.id}/`, { token: instructor.access, body: { is_published: false } });
    assert.deepEqual([await count(category.id), await count(other.id)], [1, 0]);
    await call(app, 'PATCH', `/api/courses/${draft.id}/`, {
      token: instructor.access,
      body: { is_published: true, category: category.id },
    });
    assert.equal(await count(category.id), 2);
    const del = await call(app, 'DELETE', `/api/courses/${draft.id}/`, { token: instructor.access });
    assert.equal(del.status, 204);
    assert.equal(await count(category.id), 1);

    const listed = await call(app, 'GET', '/api/categories/?page_size=100');
    assert.equal(listed.body.results.find((c: { id: number }) => c.id === category.id).courses_count, 1);
  });

  it('refuses to delete a category with courses, drafts included; deletes an empty one', async () => {
    const category = await createCategory(app);
    const draft = await createCourse(app, { instructor, category_id: category.id, is_published: false });
    const blocked = await call(app, 'DELETE', `/api/categories/${category.id}/`, { token: admin.access });
    assert.equal(blocked.status, 409);
    assert.match(blocked.body.detail, /courses/);
    await app.database.db.deleteFrom('courses').where('id', '=', draft.id).execute();
    const deleted = await call(app, 'DELETE', `/api/categories/${category.id}/`, { token: admin.access });
    assert.equal(deleted.status, 204);
    assert.equal((await call(app, 'GET', `/api/categories/${category.id}/`)).status, 404);
    assert.equal((await call(app, 'DELETE', `/api/categories/${category.id}/`, { token: admin.access })).status, 404);
  });

  it('lists every category by name, paginated', async () => {
    // Its own three, out of order; other tests may have added more, so counts are lower bounds.
    const mine = ['zz list Gamma', 'zz list alpha', 'zz list Beta'];
    for (const name of mine) await createCategory(app, { name });
    const res = await call(app, 'GET', '/api/categories/?page_size=2');
    assert.equal(res.status, 200);
    assert.equal(res.body.results.length, 2);
    assert.ok(res.body.count >= 3);
    assert.match(res.body.next, /page=2/);
    const all = await call(app, 'GET', '/api/categories/?page_size=100');
    const names = all.body.results.map((c: { name: string }) => c.name.toLowerCase());
    assert.deepEqual(names, [...names].sort());
    assert.deepEqual(
      names.filter((n: string) => n.startsWith('zz list ')),
      ['zz list alpha', 'zz list beta', 'zz list gamma'],
    );
    const past = await call(app, 'GET', '/api/categories/?page=999');
    assert.equal(past.status, 404);
    assert.deepEqual(past.body, { detail: 'Invalid page.' });
    assert.equal((await call(app, 'GET', '/api/categories/999999/')).status, 404);
  });
});
