import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createAdmin, createInstructor, createStudent, createCourse } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { courseCounters, enrollViaApi } from '../helpers/actions.js';

describe('review replies and moderation', () => {
  let app: TestApp;
  let admin: TestUser;
  before(async () => {
    app = await buildTestApp();
    admin = await createAdmin(app);
  });
  after(() => app.close());

  /** A published course with a review by an enrolled student. */
  async function reviewed(rating = 4, options: { is_published?: boolean } = {}) {
    const course = await createCourse(app, options);
    const author = await createStudent(app);
    if (options.is_published === false) {
      // A course unpublished after it was reviewed.
      await app.database.db.updateTable('courses').set({ is_published: true }).where('id', '=', course.id).execute();
    }
    assert.equal((await enrollViaApi(app, author, course.id)).status, 201);
    const res = await call(app, 'POST', '/api/reviews/', { as: author, body: { course: course.id, rating, comment: 'Fine' } });
    if (options.is_published === false)
      await app.database.db.updateTable('courses').set({ is_published: false }).where('id', '=', course.id).execute();
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { course, author, review: res.body as { id: number; created_at: string }, url: `/api/reviews/${res.body.id}/` };
  }

  const audit = (reviewId: number) =>
    app.database.db
      .selectFrom('audit_log')
      .select(['action', 'actor_id'])
      .where('target_type', '=', 'review')
      .where('target_id', '=', reviewId)
      .orderBy('id')
      .execute();

  describe('replies', () => {
    it("lets the course's owner reply and replace the reply (created_at kept, updated_at moves); everyone reads it", async () => {
      const { course, url } = await reviewed();
      const first = await call(app, 'PUT', `${url}reply/`, { as: course.owner, body: { text: '  Thanks!  ' } });
      assert.equal(first.status, 200);
      assert.equal(first.body.reply.text, 'Thanks!');
      assert.equal(first.body.reply.created_at, first.body.reply.updated_at);
      assert.equal('is_hidden' in first.body, false);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await call(app, 'PUT', `${url}reply/`, { as: course.owner, body: { text: 'Thanks again' } });
      assert.equal(second.status, 200);
      assert.equal(second.body.reply.text, 'Thanks again');
      assert.equal(second.body.reply.created_at, first.body.reply.created_at);
      assert.ok(second.body.reply.updated_at > first.body.reply.updated_at);
      const read = await call(app, 'GET', url);
      assert.deepEqual(read.body.reply, second.body.reply);
      const list = await call(app, 'GET', `/api/reviews/?course=${course.id}`);
      assert.deepEqual(list.body.results[0].reply, second.body.reply);
    });

    it('refuses anyone but the owner (admins included: 403), anonymous 401, bad text 400, unknown 404', async () => {
      const { course, author, url, review } = await reviewed();
      for (const who of [admin, author, await createInstructor(app), await createStudent(app)]) {
        const res = await call(app, 'PUT', `${url}reply/`, { as: who, body: { text: 'Hi' } });
        assert.equal(res.status, 403);
        assert.equal(res.headers['x-error-code'], 'not_course_owner');
      }
      assert.equal((await call(app, 'PUT', `${url}reply/`, { body: { text: 'Hi' } })).status, 401);
      for (const text of ['', '   ', 'a\u0000b', 'x'.repeat(5001)]) {
        const res = await call(app, 'PUT', `${url}reply/`, { as: course.owner, body: { text } });
        assert.equal(res.status, 400, JSON.stringify(text.slice(0, 10)));
        assert.ok(Array.isArray(res.body.text));
      }
      assert.equal((await call(app, 'PUT', `${url}reply/`, { as: course.owner, body: {} })).status, 400);
      assert.equal((await call(app, 'PUT', `${url}reply/`, { as: course.owner, body: { text: 'x'.repeat(5000) } })).status, 200);
      assert.equal((await call(app, 'PUT', '/api/reviews/999999/reply/', { as: course.owner, body: { text: 'Hi' } })).status, 404);
      assert.equal((await call(app, 'GET', url)).body.reply.text.length, 5000);
      assert.ok(review.id > 0);
    });

    it('lets the owner and admins delete the reply (204, then 404); others 403', async () => {
      const { course, author, url } = await reviewed();
      assert.equal((await call(app, 'DELETE', `${url}reply/`, { as: course.owner })).status, 404);
      assert.equal((await call(app, 'PUT', `${url}reply/`, { as: course.owner, body: { text: 'Hi' } })).status, 200);
      assert.equal((await call(app, 'DELETE', `${url}reply/`, { as: author })).status, 403);
      assert.equal((await call(app, 'DELETE', `${url}reply/`)).status, 401);
      assert.equal((await call(app, 'DELETE', `${url}reply/`, { as: admin })).status, 204);
      assert.equal((await call(app, 'GET', url)).body.reply, null);
      assert.equal((await call(app, 'PUT', `${url}reply/`, { as: course.owner, body: { text: 'Again' } })).status, 200);
      assert.equal((await call(app, 'DELETE', `${url}reply/`, { as: course.owner })).status, 204);
      assert.equal((await call(app, 'DELETE', `${url}reply/`, { as: course.owner })).status, 404);
    });
  });

  describe('reports', () => {
    it('takes a report from anyone signed in but the author (202); a second report changes nothing', async () => {
      const { author, url, review } = await reviewed();
      const reporter = await createStudent(app);
      const first = await call(app, 'POST', `${url}report/`, { as: reporter, body: { reason: ' Spam ' } });
      assert.equal(first.status, 202);
      assert.equal(first.body.reason, 'Spam');
      assert.equal(first.body.review, review.id);
      assert.equal(first.body.resolved, false);
      assert.equal(first.body.reporter.id, reporter.user.id);
      const again = await call(app, 'POST', `${url}report/`, { as: reporter, body: { reason: 'Different reason' } });
      assert.equal(again.status, 202);
      assert.deepEqual(again.body, first.body);
      const twice = await Promise.all([1, 2, 3].map(() => call(app, 'POST', `${url}report/`, { as: admin, body: { reason: 'Abuse' } })));
      assert.deepEqual(
        twice.map((r) => r.status),
        [202, 202, 202],
      );
      const rows = await app.database.db.selectFrom('review_reports').select('id').where('review_id', '=', review.id).execute();
      assert.equal(rows.length, 2);

      const own = await call(app, 'POST', `${url}report/`, { as: author, body: { reason: 'Mine' } });
      assert.equal(own.status, 403);
      assert.equal(own.headers['x-error-code'], 'own_review');
      assert.equal((await call(app, 'POST', `${url}report/`, { body: { reason: 'x' } })).status, 401);
      for (const reason of ['', '  ', 'a\u0000', 'x'.repeat(1001)]) {
        const res = await call(app, 'POST', `${url}report/`, { as: await createStudent(app), body: { reason } });
        assert.equal(res.status, 400);
        assert.ok(Array.isArray(res.body.reason));
      }
      assert.equal((await call(app, 'POST', '/api/reviews/999999/report/', { as: reporter, body: { reason: 'x' } })).status, 404);
    });

    it("does not let outsiders report a review of someone else's draft (404)", async () => {
      const { url } = await reviewed(3, { is_published: false });
      assert.equal((await call(app, 'POST', `${url}report/`, { as: await createStudent(app), body: { reason: 'x' } })).status, 404);
    });

    it('lists reports for admins, newest first, filtered by resolved; hiding resolves them', async () => {
      const { url, review } = await reviewed();
      const reporters = [await createStudent(app), await createInstructor(app)];
      for (const r of reporters)
        assert.equal((await call(app, 'POST', `${url}report/`, { as: r, body: { reason: `by ${r.user.username}` } })).status, 202);
      const open = await call(app, 'GET', '/api/admin/reports/?resolved=false&page_size=100', { as: admin });
      assert.equal(open.status, 200);
      const mine = open.body.results.filter((r: { review: number }) => r.review === review.id);
      assert.deepEqual(
        mine.map((r: { reporter: { id: number } }) => r.reporter.id),
        [reporters[1]!.user.id, reporters[0]!.user.id],
      );
      assert.deepEqual(Object.keys(mine[0]).sort(), ['created_at', 'id', 'reason', 'reporter', 'resolved', 'review']);
      assert.equal((await call(app, 'POST', `/api/admin/reviews/${review.id}/hide/`, { as: admin })).status, 200);
      const resolved = await call(app, 'GET', '/api/admin/reports/?resolved=true&page_size=100', { as: admin });
      assert.deepEqual(
        resolved.body.results.filter((r: { review: number }) => r.review === review.id).map((r: { resolved: boolean }) => r.resolved),
        [true, true],
      );
      const stillOpen = await call(app, 'GET', '/api/admin/reports/?resolved=false&page_size=100', { as: admin });
      assert.equal(
        stillOpen.body.results.some((r: { review: number }) => r.review === review.id),
        false,
      );
      const bad = await call(app, 'GET', '/api/admin/reports/?resolved=maybe', { as: admin });
      assert.equal(bad.status, 400);
      assert.ok(Array.isArray(bad.body.resolved));
      assert.equal((await call(app, 'GET', '/api/admin/reports/?page=99999999', { as: admin })).status, 404);
      assert.equal((await call(app, 'GET', '/api/admin/reports/', { as: reporters[0] })).status, 403);
      assert.equal((await call(app, 'GET', '/api/admin/reports/')).status, 401);
    });
  });

  describe('hide and unhide', () => {
    it('takes a hidden review out of public reads and the aggregates at once; its author and admins still see it with is_hidden', async () => {
      const { course, author, url, review } = await reviewed(1);
      const other = await createStudent(app);
      assert.equal((await enrollViaApi(app, other, course.id)).status, 201);
      assert.equal((await call(app, 'POST', '/api/reviews/', { as: other, body: { course: course.id, rating: 5 } })).status, 201);
      assert.deepEqual((({ reviews_count, average_rating }) => ({ reviews_count, average_rating }))(await courseCounters(app, course.id)), {
        reviews_count: 2,
        average_rating: 3,
      });

      const hidden = await call(app, 'POST', `/api/admin/reviews/${review.id}/hide/`, { as: admin });
      assert.equal(hidden.status, 200);
      assert.equal(hidden.body.is_hidden, true);
      const detail = (await call(app, 'GET', `/api/courses/${course.id}/`)).body;
      assert.deepEqual([detail.reviews_count, detail.average_rating, detail.rating_histogram], [1, 5, { 1: 0, 2: 0, 3: 0, 4: 0, 5: 1 }]);

      for (const who of [undefined, other, course.owner]) {
        assert.equal((await call(app, 'GET', url, { as: who })).status, 404);
        const list = await call(app, 'GET', `/api/reviews/?course=${course.id}`, { as: who });
        assert.deepEqual(list.body.results.map((r: { id: number }) => r.id).includes(review.id), false);
        assert.equal(list.body.count, 1);
        // is_hidden only on the viewer's own review.
        assert.ok(list.body.results.every((r: { student: { id: number } }) => 'is_hidden' in r === (r.student.id === who?.user.id)));
      }
      for (const who of [author, admin]) {
        const res = await call(app, 'GET', url, { as: who });
        assert.equal(res.status, 200);
        assert.equal(res.body.is_hidden, true);
        const list = await call(app, 'GET', `/api/reviews/?course=${course.id}`, { as: who });
        assert.equal(list.body.count, 2);
      }
      // The owner of the course may not reply to what they cannot see; others cannot report it.
      assert.equal((await call(app, 'PUT', `${url}reply/`, { as: course.owner, body: { text: 'Hi' } })).status, 404);
      assert.equal((await call(app, 'POST', `${url}report/`, { as: other, body: { reason: 'x' } })).status, 404);

      // Editing keeps it hidden (and out of the aggregates).
      const edited = await call(app, 'PATCH', url, { as: author, body: { rating: 2 } });
      assert.equal(edited.status, 200);
      assert.equal(edited.body.is_hidden, true);
      assert.deepEqual((({ reviews_count, rating_sum }) => ({ reviews_count, rating_sum }))(await courseCounters(app, course.id)), {
        reviews_count: 1,
        rating_sum: 5,
      });
      // Hiding again changes nothing and records nothing new.
      assert.equal((await call(app, 'POST', `/api/admin/reviews/${review.id}/hide/`, { as: admin })).status, 200);

      const shown = await call(app, 'POST', `/api/admin/reviews/${review.id}/unhide/`, { as: admin });
      assert.equal(shown.status, 200);
      assert.equal(shown.body.is_hidden, false);
      assert.deepEqual((await call(app, 'GET', `/api/courses/${course.id}/`)).body.rating_histogram, { 1: 0, 2: 1, 3: 0, 4: 0, 5: 1 });
      assert.equal((await call(app, 'GET', url)).status, 200);
      assert.deepEqual(await audit(review.id), [
        { action: 'review.hidden', actor_id: admin.user.id },
        { action: 'review.unhidden', actor_id: admin.user.id },
      ]);
    });

    it('is for admins only (403, anonymous 401); unknown reviews 404', async () => {
      const { course, author, review } = await reviewed();
      for (const who of [author, course.owner, await createStudent(app)]) {
        assert.equal((await call(app, 'POST', `/api/admin/reviews/${review.id}/hide/`, { as: who })).status, 403);
        assert.equal((await call(app, 'POST', `/api/admin/reviews/${review.id}/unhide/`, { as: who })).status, 403);
      }
      assert.equal((await call(app, 'POST', `/api/admin/reviews/${review.id}/hide/`)).status, 401);
      assert.equal((await call(app, 'POST', '/api/admin/reviews/999999/hide/', { as: admin })).status, 404);
      assert.equal((await call(app, 'POST', '/api/admin/reviews/99999999999/unhide/', { as: admin })).status, 404);
    });
  });

  describe('events and audit', () => {
    it("records review.created/updated/deleted in the outbox; an admin deletion is audited, the author's is not", async () => {
      const { course, author, url, review } = await reviewed(4);
      assert.equal((await call(app, 'PATCH', url, { as: author, body: { comment: 'Changed' } })).status, 200);
      assert.equal((await call(app, 'DELETE', url, { as: author })).status, 204);
      const events = await app.database.db
        .selectFrom('events')
        .select(['type', 'data', 'course_id'])
        .where('course_id', '=', course.id)
        .orderBy('created_at')
        .execute();
      const reviewEvents = events.filter((e) => e.type.startsWith('review.'));
      assert.deepEqual(
        reviewEvents.map((e) => e.type),
        ['review.created', 'review.updated', 'review.deleted'],
      );
      assert.deepEqual(JSON.parse(reviewEvents[0]!.data), { id: review.id, course: course.id, student: author.user.id, rating: 4 });
      assert.deepEqual(await audit(review.id), []);

      const second = await reviewed(2);
      assert.equal((await call(app, 'DELETE', second.url, { as: admin })).status, 204);
      assert.deepEqual(await audit(second.review.id), [{ action: 'review.deleted', actor_id: admin.user.id }]);
    });
  });
});
