import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createAdmin, createInstructor, createStudent, createCourse, createLesson, createLessons } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import { call } from '../helpers/http.js';

const SECTION_FIELDS = ['course', 'created_at', 'id', 'order', 'title', 'updated_at'];

describe(`sections (${onPostgres ? 'postgres' : 'sqlite'})`, () => {
  let app: TestApp;
  let admin: TestUser;
  let student: TestUser;
  let stranger: TestUser;
  before(async () => {
    app = await buildTestApp();
    admin = await createAdmin(app);
    student = await createStudent(app);
    stranger = await createInstructor(app);
  });
  after(() => app.close());

  const newSection = (as: TestUser, course: number, title = 'Basics', order?: number) =>
    call(app, 'POST', '/api/sections/', { as, body: { course, title, ...(order === undefined ? {} : { order }) } });

  describe('create and read', () => {
    it('the owner creates sections, after the last by default; everyone reads a published course’s sections by order', async () => {
      const course = await createCourse(app);
      const first = await newSection(course.owner, course.id, '  Intro  ');
      assert.equal(first.status, 201);
      assert.deepEqual(Object.keys(first.body).sort(), SECTION_FIELDS);
      assert.equal(first.body.title, 'Intro');
      assert.equal(first.body.order, 1);
      assert.equal(first.body.course, course.id);
      const third = await newSection(course.owner, course.id, 'Third', 5);
      assert.equal(third.body.order, 5);
      const next = await newSection(admin, course.id, 'After');
      assert.equal(next.status, 201);
      assert.equal(next.body.order, 6);
      const between = await newSection(course.owner, course.id, 'Between', 2);
      for (const viewer of [undefined, student, stranger]) {
        const list = await call(app, 'GET', `/api/sections/?course=${course.id}`, { as: viewer });
        assert.equal(list.status, 200);
        assert.equal(list.body.count, 4);
        assert.deepEqual(
          list.body.results.map((s: { id: number }) => s.id),
          [first.body.id, between.body.id, third.body.id, next.body.id],
        );
      }
      const one = await call(app, 'GET', `/api/sections/${first.body.id}/`);
      assert.equal(one.status, 200);
      assert.deepEqual(one.body, first.body);
    });

    it('a clashing order is a 400 on order; a bad title is a 400 on title (blank, too long, NUL)', async () => {
      const course = await createCourse(app);
      await newSection(course.owner, course.id, 'A', 3);
      const clash = await newSection(course.owner, course.id, 'B', 3);
      assert.equal(clash.status, 400);
      assert.ok(clash.body.order);
      for (const title of ['   ', 'x'.repeat(201), 'bad\u0000title', '']) {
        const res = await newSection(course.owner, course.id, title);
        assert.equal(res.status, 400, JSON.stringify(title));
        assert.ok(res.body.title, JSON.stringify(res.body));
      }
      for (const order of [0, -1, 1.5, 2_147_483_648]) {
        const res = await newSection(course.owner, course.id, 'C', order);
        assert.equal(res.status, 400, String(order));
      }
      const rows = await app.database.db.selectFrom('sections').select('id').where('course_id', '=', course.id).execute();
      assert.equal(rows.length, 1);
    });

    it('who may create: not the owner 403, a student 403 (role gate), anonymous 401, someone else’s draft or no course 400 on course', async () => {
      const course = await createCourse(app);
      const draft = await createCourse(app, { is_published: false });
      assert.equal((await newSection(stranger, course.id)).status, 403);
      const asStudent = await newSection(student, course.id);
      assert.equal(asStudent.status, 403);
      assert.equal((await call(app, 'POST', '/api/sections/', { body: { course: course.id, title: 'x' } })).status, 401);
      const other = await newSection(stranger, draft.id);
      assert.equal(other.status, 400);
      assert.ok(other.body.course);
      const missing = await newSection(admin, 999_999);
      assert.equal(missing.status, 400);
      assert.ok(missing.body.course);
      assert.equal((await newSection(admin, draft.id)).status, 201);
    });

    it('a draft’s sections: its owner and admins see them; others get an empty page and 404 on the section', async () => {
      const draft = await createCourse(app, { is_published: false });
      const section = await newSection(draft.owner, draft.id);
      for (const viewer of [draft.owner, admin]) {
        const list = await call(app, 'GET', `/api/sections/?course=${draft.id}`, { as: viewer });
        assert.equal(list.body.count, 1);
        assert.equal((await call(app, 'GET', `/api/sections/${section.body.id}/`, { as: viewer })).status, 200);
      }
      for (const viewer of [undefined, student, stranger]) {
        const list = await call(app, 'GET', `/api/sections/?course=${draft.id}`, { as: viewer });
        assert.equal(list.status, 200);
        assert.deepEqual(list.body, { count: 0, next: null, previous: null, results: [] });
        assert.equal((await call(app, 'GET', `/api/sections/${section.body.id}/`, { as: viewer })).status, 404);
        // Someone else's draft does not exist for them: its sections cannot be changed or deleted either.
        if (viewer) {
          assert.equal(
            (await call(app, 'PATCH', `/api/sections/${section.body.id}/`, { as: viewer, body: { title: 'x' } })).status,
            viewer === stranger ? 404 : 403,
          );
        }
      }
      // Without course: the drafts' sections only for their owner and admins.
      const mine = await call(app, 'GET', '/api/sections/?page_size=100', { as: draft.owner });
      assert.ok(mine.body.results.some((s: { id: number }) => s.id === section.body.id));
      const theirs = await call(app, 'GET', '/api/sections/?page_size=100', { as: stranger });
      assert.ok(!theirs.body.results.some((s: { id: number }) => s.id === section.body.id));
      const anonymous = await call(app, 'GET', '/api/sections/?page_size=100');
      assert.ok(!anonymous.body.results.some((s: { id: number }) => s.id === section.body.id));
    });

    it('unknown ids, a huge page, an unknown course', async () => {
      assert.equal((await call(app, 'GET', '/api/sections/999999/')).status, 404);
      assert.equal((await call(app, 'GET', '/api/sections/99999999999/')).status, 404);
      assert.equal((await call(app, 'GET', '/api/sections/?course=999999')).body.count, 0);
      const course = await createCourse(app);
      await newSection(course.owner, course.id);
      const huge = await call(app, 'GET', `/api/sections/?course=${course.id}&page=99999999999999999999`);
      assert.equal(huge.status, 404);
      assert.equal(huge.headers['x-error-code'], 'invalid_page');
      assert.equal((await call(app, 'GET', `/api/sections/?course=${course.id}&page=9`)).status, 404);
    });
  });

  describe('update and delete', () => {
    it('PATCH changes title and order; nothing writable is 200 unchanged; the course cannot change; a clashing order is 400', async () => {
      const course = await createCourse(app);
      const other = await createCourse(app, { instructor: course.owner });
      const a = await newSection(course.owner, course.id, 'A');
      const b = await newSection(course.owner, course.id, 'B');
      const renamed = await call(app, 'PATCH', `/api/sections/${a.body.id}/`, { as: course.owner, body: { title: 'Alpha', order: 7 } });
      assert.equal(renamed.status, 200);
      assert.equal(renamed.body.title, 'Alpha');
      assert.equal(renamed.body.order, 7);
      const same = await call(app, 'PATCH', `/api/sections/${a.body.id}/`, { as: course.owner, body: {} });
      assert.equal(same.status, 200);
      assert.deepEqual(same.body, renamed.body);
      const sameOrder = await call(app, 'PATCH', `/api/sections/${a.body.id}/`, {
        as: course.owner,
        body: { order: 7, course: course.id },
      });
      assert.equal(sameOrder.status, 200);
      const moved = await call(app, 'PATCH', `/api/sections/${a.body.id}/`, { as: course.owner, body: { course: other.id } });
      assert.equal(moved.status, 400);
      assert.ok(moved.body.course);
      const clash = await call(app, 'PATCH', `/api/sections/${a.body.id}/`, { as: course.owner, body: { order: b.body.order } });
      assert.equal(clash.status, 400);
      assert.ok(clash.body.order);
      const nul = await call(app, 'PATCH', `/api/sections/${a.body.id}/`, { as: course.owner, body: { title: 'a\u0000b' } });
      assert.equal(nul.status, 400);
      assert.ok(nul.body.title);
      assert.equal((await call(app, 'GET', `/api/sections/${a.body.id}/`)).body.title, 'Alpha');
    });

    it('PUT needs course and title; admins may; others 403, anonymous 401, unknown 404', async () => {
      const course = await createCourse(app);
      const a = await newSection(course.owner, course.id, 'A');
      const missing = await call(app, 'PUT', `/api/sections/${a.body.id}/`, { as: course.owner, body: { title: 'x' } });
      assert.equal(missing.status, 400);
      const put = await call(app, 'PUT', `/api/sections/${a.body.id}/`, { as: admin, body: { course: course.id, title: 'Put', order: 4 } });
      assert.equal(put.status, 200);
      assert.equal(put.body.order, 4);
      assert.equal(
        (await call(app, 'PUT', `/api/sections/${a.body.id}/`, { as: stranger, body: { course: course.id, title: 'x' } })).status,
        403,
      );
      assert.equal((await call(app, 'PATCH', `/api/sections/${a.body.id}/`, { body: { title: 'x' } })).status, 401);
      assert.equal((await call(app, 'PATCH', '/api/sections/999999/', { as: admin, body: { title: 'x' } })).status, 404);
      assert.equal((await call(app, 'DELETE', '/api/sections/999999/', { as: admin })).status, 404);
    });

    it('DELETE is 204 and leaves its lessons in the course with section null', async () => {
      const course = await createCourse(app);
      const section = await newSection(course.owner, course.id);
      const lesson = await call(app, 'POST', '/api/lessons/', {
        as: course.owner,
        body: { course: course.id, title: 'L', section: section.body.id },
      });
      assert.equal(lesson.status, 201);
      assert.equal(lesson.body.section, section.body.id);
      assert.equal((await call(app, 'DELETE', `/api/sections/${section.body.id}/`, { as: stranger })).status, 403);
      assert.equal((await call(app, 'DELETE', `/api/sections/${section.body.id}/`, { as: course.owner })).status, 204);
      assert.equal((await call(app, 'GET', `/api/sections/${section.body.id}/`)).status, 404);
      const after = await call(app, 'GET', `/api/lessons/${lesson.body.id}/`, { as: course.owner });
      assert.equal(after.status, 200);
      assert.equal(after.body.section, null);
      const detail = await call(app, 'GET', `/api/courses/${course.id}/`);
      assert.deepEqual(detail.body.sections, []);
      assert.equal(detail.body.lessons_count, 1);
      assert.equal(detail.body.lessons[0].section, null);
    });

    it('a deleted course takes its sections', async () => {
      const course = await createCourse(app);
      const section = await newSection(course.owner, course.id);
      assert.equal((await call(app, 'DELETE', `/api/courses/${course.id}/`, { as: course.owner })).status, 204);
      assert.equal((await call(app, 'GET', `/api/sections/${section.body.id}/`, { as: admin })).status, 404);
    });
  });

  describe('lessons carry section', () => {
    it('a section of the same course only: another course’s or an unknown section is 400 on section; null clears it', async () => {
      const course = await createCourse(app);
      const other = await createCourse(app, { instructor: course.owner });
      const mine = await newSection(course.owner, course.id);
      const foreign = await newSection(course.owner, other.id);
      const bad = await call(app, 'POST', '/api/lessons/', {
        as: course.owner,
        body: { course: course.id, title: 'L', section: foreign.body.id },
      });
      assert.equal(bad.status, 400);
      assert.ok(bad.body.section);
      const unknown = await call(app, 'POST', '/api/lessons/', {
        as: course.owner,
        body: { course: course.id, title: 'L', section: 999_999 },
      });
      assert.equal(unknown.status, 400);
      assert.ok(unknown.body.section);
      assert.equal((await call(app, 'GET', `/api/courses/${course.id}/`)).body.lessons_count, 0);
      const plain = await call(app, 'POST', '/api/lessons/', { as: course.owner, body: { course: course.id, title: 'L' } });
      assert.equal(plain.body.section, null);
      const set = await call(app, 'PATCH', `/api/lessons/${plain.body.id}/`, { as: course.owner, body: { section: mine.body.id } });
      assert.equal(set.status, 200);
      assert.equal(set.body.section, mine.body.id);
      const moved = await call(app, 'PATCH', `/api/lessons/${plain.body.id}/`, { as: course.owner, body: { section: foreign.body.id } });
      assert.equal(moved.status, 400);
      assert.ok(moved.body.section);
      assert.equal((await call(app, 'GET', `/api/lessons/${plain.body.id}/`, { as: course.owner })).body.section, mine.body.id);
      const cleared = await call(app, 'PATCH', `/api/lessons/${plain.body.id}/`, { as: course.owner, body: { section: null } });
      assert.equal(cleared.body.section, null);
      const nul = await call(app, 'PATCH', `/api/lessons/${plain.body.id}/`, { as: course.owner, body: { content: 'a\u0000b' } });
      assert.equal(nul.status, 400);
      assert.ok(nul.body.content);
    });

    it('the course detail shows sections by order, sequential, and each lesson’s section', async () => {
      const course = await createCourse(app);
      const s2 = await newSection(course.owner, course.id, 'Two', 2);
      const s1 = await newSection(course.owner, course.id, 'One', 1);
      const l1 = await call(app, 'POST', '/api/lessons/', {
        as: course.owner,
        body: { course: course.id, title: 'L1', section: s1.body.id },
      });
      const l2 = await call(app, 'POST', '/api/lessons/', { as: course.owner, body: { course: course.id, title: 'L2' } });
      const detail = await call(app, 'GET', `/api/courses/${course.id}/`);
      assert.deepEqual(detail.body.sections, [
        { id: s1.body.id, title: 'One', order: 1 },
        { id: s2.body.id, title: 'Two', order: 2 },
      ]);
      assert.equal(detail.body.sequential, false);
      assert.deepEqual(
        detail.body.lessons.map((l: { id: number; section: number | null }) => [l.id, l.section]),
        [
          [l1.body.id, s1.body.id],
          [l2.body.id, null],
        ],
      );
      // Nobody enrolled: no completed/locked fields.
      assert.equal('locked' in detail.body.lessons[0], false);
    });
  });

  describe('reorder', () => {
    const orderOf = async (courseId: number) => {
      const rows = await app.database.db
        .selectFrom('lessons')
        .select(['id', 'position'])
        .where('course_id', '=', courseId)
        .orderBy('position')
        .execute();
      return rows.map((r) => [r.id, r.position]);
    };
    const sectionOrderOf = async (courseId: number) => {
      const rows = await app.database.db
        .selectFrom('sections')
        .select(['id', 'position'])
        .where('course_id', '=', courseId)
        .orderBy('position')
        .execute();
      return rows.map((r) => [r.id, r.position]);
    };

    it('assigns order 1..n to lessons and sections in the given order; answers the course detail', async () => {
      const course = await createCourse(app);
      const lessons = await createLessons(app, course.id, 5);
      // Gaps and a high position: the new order is 1..n whatever it was.
      await app.database.db.updateTable('lessons').set({ position: 2_147_483_647 }).where('id', '=', lessons[4]!.id).execute();
      const sa = await newSection(course.owner, course.id, 'A', 10);
      const sb = await newSection(course.owner, course.id, 'B', 20);
      const ids = [lessons[3]!.id, lessons[0]!.id, lessons[4]!.id, lessons[2]!.id, lessons[1]!.id];
      const res = await call(app, 'POST', `/api/courses/${course.id}/reorder/`, {
        as: course.owner,
        body: {
          lessons: ids,
          sections: [sb.body.id, sa.body.id],
        },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.lessons.map((l: { id: number; order: number }) => [l.id, l.order]),
        ids.map((id, i) => [id, i + 1]),
      );
      assert.deepEqual(
        res.body.sections.map((s: { id: number; order: number }) => [s.id, s.order]),
        [
          [sb.body.id, 1],
          [sa.body.id, 2],
        ],
      );
      assert.deepEqual(
        await orderOf(course.id),
        ids.map((id, i) => [id, i + 1]),
      );
      // The same order again changes nothing and still answers 200; sections may be left out.
      const again = await call(app, 'POST', `/api/courses/${course.id}/reorder/`, { as: admin, body: { lessons: ids } });
      assert.equal(again.status, 200);
      assert.deepEqual(await sectionOrderOf(course.id), [
        [sb.body.id, 1],
        [sa.body.id, 2],
      ]);
      // A new lesson lands after the last.
      const added = await call(app, 'POST', '/api/lessons/', { as: course.owner, body: { course: course.id, title: 'new' } });
      assert.equal(added.body.order, 6);
    });

    it('a list that misses, repeats or adds an id is a 400 on that field, and nothing changes', async () => {
      const course = await createCourse(app);
      const other = await createCourse(app, { instructor: course.owner });
      const lessons = await createLessons(app, course.id, 3);
      const foreign = await createLesson(app, other.id);
      const s1 = await newSection(course.owner, course.id, 'A');
      const s2 = await newSection(course.owner, course.id, 'B');
      const foreignSection = await newSection(course.owner, other.id, 'F');
      const before = await orderOf(course.id);
      const sectionsBefore = await sectionOrderOf(course.id);
      const [a, b, c] = lessons.map((l) => l.id) as [number, number, number];
      const cases: [string, Record<string, unknown>][] = [
        ['lessons', { lessons: [c, b] }],
        ['lessons', { lessons: [c, b, a, a] }],
        ['lessons', { lessons: [c, b, b] }],
        ['lessons', { lessons: [c, b, a, foreign.id] }],
        ['lessons', { lessons: [c, b, a, 999_999] }],
        ['lessons', { lessons: [] }],
        ['sections', { lessons: [c, b, a], sections: [s2.body.id] }],
        ['sections', { lessons: [c, b, a], sections: [s2.body.id, s1.body.id, foreignSection.body.id] }],
        ['sections', { lessons: [c, b, a], sections: [s2.body.id, s2.body.id] }],
      ];
      for (const [field, body] of cases) {
        const res = await call(app, 'POST', `/api/courses/${course.id}/reorder/`, { as: course.owner, body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.ok(res.body[field], JSON.stringify(res.body));
        assert.deepEqual(await orderOf(course.id), before);
        assert.deepEqual(await sectionOrderOf(course.id), sectionsBefore);
      }
      for (const body of [{}, { lessons: 'x' }, { lessons: [0] }, { lessons: [1.5] }, { lessons: [a, b, c], sections: null }]) {
        const res = await call(app, 'POST', `/api/courses/${course.id}/reorder/`, { as: course.owner, body });
        assert.equal(res.status, 400, JSON.stringify(body));
      }
      assert.deepEqual(await orderOf(course.id), before);
    });

    it('only the owner and admins; someone else’s draft 404; unknown course 404', async () => {
      const course = await createCourse(app);
      const draft = await createCourse(app, { is_published: false });
      const lessons = await createLessons(app, course.id, 2);
      const ids = lessons.map((l) => l.id).reverse();
      assert.equal((await call(app, 'POST', `/api/courses/${course.id}/reorder/`, { as: stranger, body: { lessons: ids } })).status, 403);
      assert.equal((await call(app, 'POST', `/api/courses/${course.id}/reorder/`, { as: student, body: { lessons: ids } })).status, 403);
      assert.equal((await call(app, 'POST', `/api/courses/${course.id}/reorder/`, { body: { lessons: ids } })).status, 401);
      assert.equal((await call(app, 'POST', `/api/courses/${draft.id}/reorder/`, { as: stranger, body: { lessons: [] } })).status, 404);
      assert.equal((await call(app, 'POST', '/api/courses/999999/reorder/', { as: admin, body: { lessons: [] } })).status, 404);
      const empty = await call(app, 'POST', `/api/courses/${draft.id}/reorder/`, { as: draft.owner, body: { lessons: [] } });
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.body.lessons, []);
    });
  });

  it('the OpenAPI document names the schemas', async () => {
    const res = await call(app, 'GET', '/api/schema/');
    const text = JSON.stringify(res.body);
    for (const name of [
      '"Section"',
      '"SectionRequest"',
      '"PatchedSectionRequest"',
      '"PaginatedSectionList"',
      '"ReorderRequest"',
      '"LessonPosition"',
      '"LessonPositionRequest"',
    ]) {
      assert.ok(text.includes(name), name);
    }
    assert.ok(res.body.paths['/api/sections/']);
    assert.ok(res.body.paths['/api/courses/{id}/reorder/']);
    assert.ok(res.body.paths['/api/lessons/{id}/position/']);
  });
});
