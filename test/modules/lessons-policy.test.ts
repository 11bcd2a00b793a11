import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import type { TestUser } from '../helpers/factories.js';
import { createStudent, createInstructor, createAdmin, createCourse, insertEnrollmentRow } from '../helpers/factories.js';
import { multipart } from '../helpers/http.js';
import { samples, keyOf } from '../helpers/media.js';

type Role = 'anonymous' | 'other student' | 'enrolled student' | 'other instructor' | 'owner' | 'admin';
type Outcome = 200 | 401 | 403 | 404;

/**
 * The read policy as a table: who reads a lesson in full (detail 200, listed, media URL
 * works), and what everyone else is told. Rows: course state × lesson kind; columns: callers.
 */
const TABLE: Record<string, Record<Role, Outcome>> = {
  'published, preview': {
    anonymous: 200,
    'other student': 200,
    'enrolled student': 200,
    'other instructor': 200,
    owner: 200,
    admin: 200,
  },
  'published, not preview': {
    anonymous: 401,
    'other student': 403,
    'enrolled student': 200,
    'other instructor': 403,
    owner: 200,
    admin: 200,
  },
  'draft, preview': {
    anonymous: 404,
    'other student': 404,
    'enrolled student': 404,
    'other instructor': 404,
    owner: 200,
    admin: 200,
  },
  'draft, not preview': {
    anonymous: 404,
    'other student': 404,
    'enrolled student': 404,
    'other instructor': 404,
    owner: 200,
    admin: 200,
  },
};

describe('the lesson read policy', () => {
  let app: TestApp;
  const callers = {} as Record<Role, TestUser | null>;
  const lessons: Record<string, { id: number; courseId: number; videoKey: string }> = {};

  before(async () => {
    app = await buildTestApp();
    const owner = await createInstructor(app);
    const enrolled = await createStudent(app);
    Object.assign(callers, {
      anonymous: null,
      'other student': await createStudent(app),
      'enrolled student': enrolled,
      'other instructor': await createInstructor(app),
      owner,
      admin: await createAdmin(app),
    });
    for (const published of [true, false]) {
      const course = await createCourse(app, { instructor: owner, is_published: published });
      // Enrolled while the course was public, kept when it went back to draft.
      await insertEnrollmentRow(app, enrolled.user.id, course.id);
      for (const preview of [true, false]) {
        const form = multipart(
          { course: course.id, title: `${published ? 'published' : 'draft'} ${preview ? 'preview' : 'locked'}`, is_preview: preview },
          { video: { filename: 'v.mp4', contentType: 'video/mp4', data: samples.mp4() } },
        );
        const res = await app.inject({
          method: 'POST',
          url: '/api/lessons/',
          headers: { ...owner.headers, ...form.headers },
          payload: form.payload,
        });
        assert.equal(res.statusCode, 201, res.body);
        const row = `${published ? 'published' : 'draft'}, ${preview ? 'preview' : 'not preview'}`;
        lessons[row] = { id: res.json().id, courseId: course.id, videoKey: keyOf(res.json().video) };
      }
    }
  });
  after(() => app.close());

  const headersOf = (role: Role) => callers[role]?.headers ?? {};
  const path = (url: string) => url.slice(url.indexOf('/media/'));

  for (const [row, expected] of Object.entries(TABLE)) {
    for (const [role, outcome] of Object.entries(expected) as [Role, Outcome][]) {
      it(`${row} × ${role}: ${outcome === 200 ? 'reads it in full' : outcome}`, async () => {
        const lesson = lessons[row];
        assert.ok(lesson);
        const detail = await app.inject({ method: 'GET', url: `/api/lessons/${lesson.id}/`, headers: headersOf(role) });
        assert.equal(detail.statusCode, outcome, detail.body);

        const byCourse = await app.inject({
          method: 'GET',
          url: `/api/lessons/?course=${lesson.courseId}&page_size=100`,
          headers: headersOf(role),
        });
        assert.equal(byCourse.statusCode, 200);
        const listed = byCourse.json().results.find((l: { id: number }) => l.id === lesson.id);
        const everything = await app.inject({ method: 'GET', url: '/api/lessons/?page_size=100', headers: headersOf(role) });
        const listedAll = everything.json().results.find((l: { id: number }) => l.id === lesson.id);

        if (outcome === 200) {
          assert.equal(detail.json().content, '');
          assert.ok(listed, 'listed for its course');
          assert.ok(listedAll, 'listed among all lessons');
          for (const url of [detail.json().video, listed.video, listedAll.video] as string[]) {
            assert.equal(keyOf(url), lesson.videoKey);
            const media = await app.inject({ method: 'GET', url: path(url) });
            assert.equal(media.statusCode, 200);
            assert.deepEqual(media.rawPayload, samples.mp4());
          }
        } else {
          assert.equal(listed, undefined, 'not listed for its course');
          assert.equal(listedAll, undefined, 'not listed among all lessons');
          assert.ok(detail.json().detail);
          if (outcome === 401) assert.ok(detail.headers['www-authenticate']);
          // No URL was handed out; the bare key (even when guessed) opens nothing.
          const media = await app.inject({ method: 'GET', url: `/media/${lesson.videoKey}`, headers: headersOf(role) });
          assert.equal(media.statusCode, 403);
        }
      });
    }
  }

  it('counts what each caller may read, not more', async () => {
    const expectedCount = (role: Role) => Object.values(TABLE).filter((r) => r[role] === 200).length;
    for (const role of Object.keys(callers) as Role[]) {
      const res = await app.inject({ method: 'GET', url: '/api/lessons/', headers: headersOf(role) });
      assert.equal(res.json().count, expectedCount(role), role);
    }
  });
});
