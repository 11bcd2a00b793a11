import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { baseOf, send as sendJson } from '../helpers/burst.js';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createAdmin, createStudent, createCourse } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { enrollViaApi } from '../helpers/actions.js';

/**
 * Hide/unhide against concurrent new reviews and rating changes over a real listening
 * server (on PostgreSQL each request on its own pooled connection): at the end the course's
 * aggregates and histogram equal what the visible rows say.
 */
describe(`review moderation races (${onPostgres ? 'postgres' : 'sqlite'})`, () => {
  let app: TestApp;
  let base: string;
  before(async () => {
    app = await buildTestApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = baseOf(app);
  });
  after(() => app.close());

  const status = async (method: string, path: string, as: TestUser, body?: unknown) =>
    (await sendJson(base, method, path, as, body)).status;

  it('hide/unhide bursts beside new reviews and rating changes leave exact aggregates', async () => {
    const course = await createCourse(app);
    const admin = await createAdmin(app);
    const existing = await Promise.all(Array.from({ length: 20 }, () => createStudent(app)));
    const newcomers = await Promise.all(Array.from({ length: 20 }, () => createStudent(app)));
    for (const s of [...existing, ...newcomers]) assert.equal((await enrollViaApi(app, s, course.id)).status, 201);
    const ids: number[] = [];
    for (const [i, s] of existing.entries())
      ids.push((await call(app, 'POST', '/api/reviews/', { as: s, body: { course: course.id, rating: 1 + (i % 5) } })).body.id);

    const statuses = await Promise.all([
      // Each existing review is hidden, shown, hidden again … by two admins' requests at once.
      ...ids.flatMap((id, i) => [
        status('POST', `/api/admin/reviews/${id}/hide/`, admin),
        status('POST', `/api/admin/reviews/${id}/${i % 2 === 0 ? 'unhide' : 'hide'}/`, admin),
        status('POST', `/api/admin/reviews/${id}/hide/`, admin),
      ]),
      ...existing.map((s, i) => status('PATCH', `/api/reviews/${ids[i]}/`, s, { rating: 5 - (i % 5) })),
      ...newcomers.map((s, i) => status('POST', '/api/reviews/', s, { course: course.id, rating: 1 + ((i * 3) % 5) })),
    ]);
    assert.ok(
      statuses.every((s) => s === 200 || s === 201),
      JSON.stringify(statuses),
    );

    const visible = await app.database.db
      .selectFrom('reviews')
      .select('rating')
      .where('course_id', '=', course.id)
      .where('is_hidden', '=', false)
      .execute();
    const histogram = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 } as Record<number, number>;
    for (const row of visible) histogram[row.rating]! += 1;
    const sum = visible.reduce((total, row) => total + row.rating, 0);
    const detail = (await call(app, 'GET', `/api/courses/${course.id}/`)).body;
    assert.equal(detail.reviews_count, visible.length);
    assert.equal(detail.average_rating, visible.length === 0 ? null : Math.round((sum * 100) / visible.length) / 100);
    assert.deepEqual(detail.rating_histogram, histogram);
    const analytics = (await call(app, 'GET', `/api/courses/${course.id}/analytics/`, { as: course.owner })).body;
    assert.deepEqual(analytics.rating_histogram, histogram);
    const list = (await call(app, 'GET', `/api/reviews/?course=${course.id}&page_size=100`)).body;
    assert.equal(list.count, visible.length);
    // Every review that ended hidden had its hide audited at least once; the audit entries alternate per review.
    const entries = await app.database.db
      .selectFrom('audit_log')
      .select(['action', 'target_id'])
      .where('target_type', '=', 'review')
      .orderBy('id')
      .execute();
    for (const id of ids) {
      const actions = entries.filter((e) => e.target_id === id).map((e) => e.action);
      actions.forEach((action, i) => assert.equal(action, i % 2 === 0 ? 'review.hidden' : 'review.unhidden'));
    }
  });
});
