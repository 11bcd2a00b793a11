import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createStudent, createAdmin, createInstructor } from '../helpers/factories.js';
import { call } from '../helpers/http.js';

// Past PostgreSQL's integer: the database would fail, so the schema must refuse it first.
const HUGE = '99999999999';
const PAST_INTEGER = '2147483648';

describe('ids out of range', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  it('are a 404 in paths, never a 5xx', async () => {
    const admin = await createAdmin(app);
    const student = await createStudent(app);
    const paths: [string, string, string][] = [
      ['GET', `/api/admin/users/${HUGE}/`, admin.access],
      ['POST', `/api/admin/users/${HUGE}/approve/`, admin.access],
      ['GET', `/api/courses/${HUGE}/`, admin.access],
      ['GET', `/api/courses/${HUGE}/students/`, admin.access],
      ['GET', `/api/categories/${HUGE}/`, admin.access],
      ['GET', `/api/lessons/${HUGE}/`, admin.access],
      ['POST', `/api/lessons/${HUGE}/complete/`, student.access],
      ['POST', `/api/enroll/${HUGE}/`, student.access],
      ['GET', `/api/my-progress/${HUGE}/`, student.access],
      ['GET', `/api/reviews/${HUGE}/`, admin.access],
    ];
    for (const [method, url, token] of paths) {
      const res = await call(app, method, url, { token, ...(method === 'POST' ? { body: {} } : {}) });
      assert.equal(res.status, 404, `${method} ${url}: ${res.text}`);
    }
  });

  it('one past the PostgreSQL integer (ten digits, plain decimal) is a 404 too, also where ownership is checked before the body', async () => {
    const admin = await createAdmin(app);
    const instructor = await createInstructor(app);
    const student = await createStudent(app);
    const paths: [string, string, string][] = [
      ['GET', `/api/courses/${PAST_INTEGER}/`, admin.access],
      ['GET', `/api/lessons/${PAST_INTEGER}/`, admin.access],
      ['PUT', `/api/lessons/${PAST_INTEGER}/`, instructor.access],
      ['PATCH', `/api/lessons/${PAST_INTEGER}/`, instructor.access],
      ['PATCH', `/api/lessons/${PAST_INTEGER}/`, admin.access],
      ['POST', `/api/lessons/${PAST_INTEGER}/complete/`, student.access],
    ];
    for (const [method, url, token] of paths) {
      const res = await call(app, method, url, { token, ...(method === 'GET' ? {} : { body: { title: 'T' } }) });
      assert.equal(res.status, 404, `${method} ${url}: ${res.text}`);
    }
  });

  it('are a 400 on the field in bodies and queries', async () => {
    const student = await createStudent(app);
    const review = await call(app, 'POST', '/api/reviews/', { token: student.access, body: { course: Number(HUGE), rating: 5 } });
    assert.equal(review.status, 400);
    assert.ok(review.body.course);
    for (const url of [`/api/reviews/?course=${HUGE}`, `/api/reviews/?student=${HUGE}`, `/api/lessons/?course=${HUGE}`]) {
      const res = await call(app, 'GET', url);
      assert.equal(res.status, 400, `${url}: ${res.text}`);
    }
  });
});

describe('catalog ids out of range', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  it('are a 400 on the field or an empty page, never a 5xx', async () => {
    const admin = await createAdmin(app);
    const course = await call(app, 'POST', '/api/courses/', {
      token: admin.access,
      body: { title: 'T', description: 'D', price: 1, category: Number(HUGE) },
    });
    assert.equal(course.status, 400);
    assert.ok(course.body.category);
    for (const url of [`/api/courses/?category=${HUGE}`, `/api/courses/?instructor=${HUGE}`]) {
      const res = await call(app, 'GET', url);
      assert.ok(res.status === 200 || res.status === 400, `${url}: ${res.status} ${res.text}`);
      if (res.status === 200) assert.equal(res.body.count, 0);
    }
  });
});
