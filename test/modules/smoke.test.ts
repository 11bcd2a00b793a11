import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createStudent } from '../helpers/factories.js';

describe('smoke', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  it('serves health and profile', async () => {
    const health = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    const s = await createStudent(app);
    const res = await app.inject({ method: 'GET', url: '/api/profile/', headers: s.headers });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().username, s.user.username);
  });
});
