import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import type { TestUser } from '../helpers/factories.js';
import { createAdmin, createCourse, createStudent, insertEnrollmentRow, insertReviewRow } from '../helpers/factories.js';
import { call } from '../helpers/http.js';

/**
 * What every list that takes `ordering` shares: the allow-list of fields is the list's own
 * fields, never a name an object inherits (`constructor`, `toString`, `__proto__`).
 */
describe('ordering on every list that takes it', () => {
  let app: TestApp;
  let admin: TestUser;
  let courseId: number;

  before(async () => {
    app = await buildTestApp();
    admin = await createAdmin(app);
    const course = await createCourse(app);
    courseId = course.id;
    const student = await createStudent(app);
    await insertEnrollmentRow(app, student.user.id, course.id);
    await insertReviewRow(app, student.user.id, course.id, { rating: 4 });
  });
  after(() => app.close());

  const lists = () => [
    { path: '/api/courses/', as: undefined, valid: '-price,title' },
    { path: '/api/admin/users/', as: admin, valid: 'username,-date_joined' },
    { path: `/api/reviews/?course=${courseId}`, as: undefined, valid: '-rating,created_at' },
  ];
  const withQuery = (path: string, query: string) => `${path}${path.includes('?') ? '&' : '?'}${query}`;

  const inherited = ['constructor', 'toString', '__proto__', '-constructor', 'hasOwnProperty', 'valueOf', 'price,constructor'];

  for (const name of inherited) {
    it(`refuses ordering=${name} with a 400 on ordering, on every list`, async () => {
      for (const list of lists()) {
        const res = await call(app, 'GET', withQuery(list.path, `ordering=${encodeURIComponent(name)}`), { as: list.as });
        assert.equal(res.status, 400, `${list.path}: ${res.text}`);
        assert.deepEqual(Object.keys(res.body), ['ordering'], list.path);
        assert.equal(res.headers['x-error-code'], 'invalid', list.path);
      }
    });
  }

  it('takes each list’s own fields (the allow-list is not empty)', async () => {
    for (const list of lists()) {
      const res = await call(app, 'GET', withQuery(list.path, `ordering=${list.valid}`), { as: list.as });
      assert.equal(res.status, 200, `${list.path}: ${res.text}`);
      assert.ok(res.body.count >= 1, list.path);
    }
  });
});
