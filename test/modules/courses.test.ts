import { after, before, describe, it } from 'node:test';
import { systemContext } from '../../src/shared/context.js';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { nowIso } from '../../src/shared/time.js';
import type { TestUser } from '../helpers/factories.js';
import { createUser, createStudent, createInstructor, createAdmin, createCategory, createCourse } from '../helpers/factories.js';
import { call } from '../helpers/http.js';

const LIST_ITEM_FIELDS = [
  'average_rating',
  'category',
  'created_at',
  'description',
  'id',
  'instructor',
  'is_free',
  'is_published',
  'lessons_count',
  'price',
  'reviews_count',
  'students_count',
  'thumbnail',
  'title',
  'total_duration',
  'updated_at',
];
const PUBLIC_USER_FIELDS = ['bio', 'first_name', 'id', 'last_name', 'profile_image', 'username'];

describe('courses: create, update, delete, detail', () => {
  let app: TestApp;
  let admin: TestUser;
  let owner: TestUser;
  let otherInstructor: TestUser;
  let student: TestUser;
  let categoryId: number;
  const body = () => ({ title: 'Intro to Rust', description: 'Ownership and borrowing', price: '49.99', category: categoryId });
  const courseCount = async () =>
    Number(
      (
        await app.database.db
          .selectFrom('courses')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  before(async () => {
    app = await buildTestApp();
    admin = await createAdmin(app);
    owner = await createInstructor(app);
    otherInstructor = await createInstructor(app);
    student = await createStudent(app);
    categoryId = (await createCategory(app, { name: 'Systems' })).id;
  });
  after(() => app.close());

  describe('create', () => {
    it('creates a draft owned by the caller with every field of the contract', async () => {
      const res = await call(app, 'POST', '/api/courses/', { token: owner.access, body: body() });
      assert.equal(res.status, 201, res.text);
      const course = res.body;
      assert.deepEqual(
        Object.keys(course).sort(),
        [...LIST_ITEM_FIELDS, 'enrollment', 'lessons', 'rating_histogram', 'sections', 'sequential'].sort(),
      );
      assert.equal(course.title, 'Intro to Rust');
      assert.equal(course.description, 'Ownership and borrowing');
      assert.equal(course.price, '49.99');
      assert.equal(course.is_free, false);
      assert.equal(course.is_published, false, 'a draft by default');
      assert.deepEqual(course.category, { id: categoryId, name: 'Systems', slug: 'systems' });
      assert.deepEqual(Object.keys(course.instructor).sort(), PUBLIC_USER_FIELDS, 'the public user, never the email');
      assert.equal(course.instructor.id, owner.user.id);
      assert.equal(course.thumbnail, null);
      assert.equal(course.average_rating, null);
      for (const counter of ['reviews_count', 'students_count', 'lessons_count', 'total_duration'])
        assert.equal(course[counter], 0, counter);
      assert.deepEqual(course.lessons, []);
      assert.equal(course.enrollment, null);
      assert.match(course.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it('lets an admin create, and publishes when asked', async () => {
      const res = await call(app, 'POST', '/api/courses/', { token: admin.access, body: { ...body(), is_published: true } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.instructor.id, admin.user.id);
      assert.equal(res.body.is_published, true);
    });

    it('ignores read-only fields: the owner, counters and ratings are not the client’s to set', async () => {
      const res = await call(app, 'POST', '/api/courses/', {
        token: owner.access,
        body: { ...body(), instructor: otherInstructor.user.id, students_count: 50, average_rating: 5, reviews_count: 9, id: 999 },
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.instructor.id, owner.user.id);
      assert.equal(res.body.students_count, 0);
      assert.equal(res.body.average_rating, null);
      assert.notEqual(res.body.id, 999);
    });

    it('refuses anonymous callers, students, and pending or rejected instructors with the reason', async () => {
      const before = await courseCount();
      const anonymous = await call(app, 'POST', '/api/courses/', { body: body() });
      assert.equal(anonymous.status, 401);
      const asStudent = await call(app, 'POST', '/api/courses/', { token: student.access, body: body() });
      assert.equal(asStudent.status, 403);
      assert.match(asStudent.body.detail, /instructors/i);
      const pending = await createInstructor(app, 'pending');
      const asPending = await call(app, 'POST', '/api/courses/', { token: pending.access, body: body() });
      assert.equal(asPending.status, 403);
      assert.match(asPending.body.detail, /awaiting approval/);
      const rejected = await createInstructor(app, 'rejected');
      const asRejected = await call(app, 'POST', '/api/courses/', { token: rejected.access, body: body() });
      assert.equal(asRejected.status, 403);
      assert.match(asRejected.body.detail, /rejected/);
      assert.equal(await courseCount(), before);
    });

    it('reads the instructor status from the database, not from the token', async () => {
      const instructor = await createInstructor(app, 'approved');
      await app.database.db.updateTable('users').set({ instructor_status: 'rejected' }).where('id', '=', instructor.user.id).execute();
      const res = await call(app, 'POST', '/api/courses/', { token: instructor.access, body: body() });
      assert.equal(res.status, 403);
      assert.match(res.body.detail, /rejected/);
      const pendingThenApproved = await createUser(app, { role: 'instructor', instructor_status: 'pending' });
      await app.database.db
        .updateTable('users')
        .set({ instructor_status: 'approved' })
        .where('id', '=', pendingThenApproved.user.id)
        .execute();
      assert.equal((await call(app, 'POST', '/api/courses/', { token: pendingThenApproved.access, body: body() })).status, 201);
    });
  });

  describe('validation', () => {
    const invalid = async (changes: Record<string, unknown>, field: string, message?: RegExp) => {
      const res = await call(app, 'POST', '/api/courses/', { token: owner.access, body: { ...body(), ...changes } });
      assert.equal(res.status, 400, `${JSON.stringify(changes)}: ${res.text}`);
      assert.deepEqual(Object.keys(res.body), [field], JSON.stringify(res.body));
      if (message) assert.match(res.body[field][0], message);
    };

    it('requires title, description, price and category', async () => {
      for (const field of ['title', 'description', 'price', 'category']) {
        const without: Record<string, unknown> = body();
        delete without[field];
        const res = await call(app, 'POST', '/api/courses/', { token: owner.access, body: without });
        assert.equal(res.status, 400, field);
        assert.deepEqual(res.body, { [field]: ['This field is required.'] });
      }
    });

    it('checks the title: not blank, at most 200 characters (after trimming)', async () => {
      await invalid({ title: '' }, 'title', /blank/);
      await invalid({ title: '    ' }, 'title', /blank/);
      await invalid({ title: 'x'.repeat(201) }, 'title', /no more than 200 characters/);
      const longest = await call(app, 'POST', '/api/courses/', {
        token: owner.access,
        body: { ...body(), title: `  ${'y'.repeat(200)}  ` },
      });
      assert.equal(longest.status, 201, longest.text);
      assert.equal(longest.body.title, 'y'.repeat(200));
    });

    it('checks the description length', async () => {
      await invalid({ description: 'd'.repeat(20_001) }, 'description');
      const empty = await call(app, 'POST', '/api/courses/', { token: owner.access, body: { ...body(), description: '' } });
      assert.equal(empty.status, 201, 'an empty description is allowed');
    });

    it('checks the price: a number, 0 to 99999999.99, two places at most, given as a number or a string', async () => {
      await invalid({ price: 'abc' }, 'price', /valid number/);
      await invalid({ price: '' }, 'price', /valid number/);
      await invalid({ price: 'NaN' }, 'price', /valid number/);
      await invalid({ price: '1.2.3' }, 'price', /valid number/);
      await invalid({ price: true }, 'price', /valid number/);
      await invalid({ price: '10.999' }, 'price', /2 decimal places/);
      await invalid({ price: 0.001 }, 'price', /2 decimal places/);
      await invalid({ price: -1 }, 'price', /greater than or equal to 0/);
      await invalid({ price: '-0.01' }, 'price', /greater than or equal to 0/);
      await invalid({ price: '100000000' }, 'price', /less than or equal to 99999999.99/);
      await invalid({ price: 1e21 }, 'price', /less than or equal to 99999999.99/);
      const accepted: [unknown, string, boolean][] = [
        [49.99, '49.99', false],
        ['12.5', '12.50', false],
        [0, '0.00', true],
        ['0.00', '0.00', true],
        ['99999999.99', '99999999.99', false],
        [7, '7.00', false],
        [' 3.10 ', '3.10', false],
        ['1e3', '1000.00', false],
      ];
      for (const [price, shown, free] of accepted) {
        const res = await call(app, 'POST', '/api/courses/', { token: owner.access, body: { ...body(), price } });
        assert.equal(res.status, 201, `${String(price)}: ${res.text}`);
        assert.equal(res.body.price, shown);
        assert.equal(res.body.is_free, free);
      }
    });

    it('checks that the category exists and is an id', async () => {
      await invalid({ category: 999_999 }, 'category', /Invalid pk "999999" - object does not exist/);
      await invalid({ category: 'design' }, 'category', /valid integer/);
      await invalid({ category: null }, 'category');
    });

    it('checks is_published is a boolean', async () => {
      await invalid({ is_published: 'perhaps' }, 'is_published', /boolean/);
    });

    it('reports every bad field at once and creates nothing', async () => {
      const before = await courseCount();
      const res = await call(app, 'POST', '/api/courses/', {
        token: owner.access,
        body: { title: ' ', description: 'x', price: '1.234', category: 999_999 },
      });
      assert.equal(res.status, 400);
      assert.deepEqual(Object.keys(res.body).sort(), ['category', 'price', 'title']);
      assert.equal(await courseCount(), before);
    });

    it('refuses malformed JSON and bodies that are not objects', async () => {
      const malformed = await app.inject({
        method: 'POST',
        url: '/api/courses/',
        headers: { ...owner.headers, 'content-type': 'application/json' },
        payload: '{"title":',
      });
      assert.equal(malformed.statusCode, 400);
      assert.ok(malformed.json().detail);
      const list = await call(app, 'POST', '/api/courses/', { token: owner.access, body: [1, 2] });
      assert.equal(list.status, 400);
    });
  });

  describe('update', () => {
    it('lets the owner PATCH any field and PUT the whole course', async () => {
      const course = await createCourse(app, {
        instructor: owner,
        category_id: categoryId,
        is_published: false,
        created_at: '2026-01-01T00:00:00.000Z',
      });
      const other = await createCategory(app, { name: 'Databases' });
      const patched = await call(app, 'PATCH', `/api/courses/${course.id}/`, {
        token: owner.access,
        body: { title: 'Renamed', price: 10, is_published: true },
      });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.title, 'Renamed');
      assert.equal(patched.body.price, '10.00');
      assert.equal(patched.body.is_published, true);
      assert.equal(patched.body.description, course.description, 'untouched fields stay');
      assert.ok(patched.body.updated_at > patched.body.created_at, 'updated_at moves');

      const put = await call(app, 'PUT', `/api/courses/${course.id}/`, {
        token: owner.access,
        body: { title: 'Replaced', description: 'All new', price: '0', category: other.id },
      });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.body.title, 'Replaced');
      assert.equal(put.body.is_free, true);
      assert.deepEqual(put.body.category, { id: other.id, name: 'Databases', slug: 'databases' });
      assert.equal(put.body.is_published, true, 'PUT without is_published keeps it');

      const incomplete = await call(app, 'PUT', `/api/courses/${course.id}/`, { token: owner.access, body: { title: 'Only a title' } });
      assert.equal(incomplete.status, 400);
      assert.deepEqual(Object.keys(incomplete.body).sort(), ['category', 'description', 'price']);
    });

    it('validates PATCH fields like create', async () => {
      const course = await createCourse(app, { instructor: owner, category_id: categoryId });
      const res = await call(app, 'PATCH', `/api/courses/${course.id}/`, {
        token: owner.access,
        body: { title: '', price: '-3', category: 424242 },
      });
      assert.equal(res.status, 400);
      assert.deepEqual(Object.keys(res.body).sort(), ['category', 'price', 'title']);
      const unchanged = await call(app, 'GET', `/api/courses/${course.id}/`);
      assert.equal(unchanged.body.title, course.title);
    });

    it('lets an admin update anyone’s course, draft or not', async () => {
      const draft = await createCourse(app, { instructor: owner, category_id: categoryId, is_published: false });
      const res = await call(app, 'PATCH', `/api/courses/${draft.id}/`, { token: admin.access, body: { title: 'Moderated' } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.title, 'Moderated');
      assert.equal(res.body.instructor.id, owner.user.id, 'the owner stays');
    });

    it('refuses everyone else: 401 anonymous, 403 on a published course, 404 on a draft', async () => {
      const published = await createCourse(app, { instructor: owner, category_id: categoryId, is_published: true });
      const draft = await createCourse(app, { instructor: owner, category_id: categoryId, is_published: false });
      for (const method of ['PATCH', 'PUT'] as const) {
        const edit = method === 'PUT' ? body() : { title: 'Hijacked' };
        assert.equal((await call(app, method, `/api/courses/${published.id}/`, { body: edit })).status, 401, `${method} anonymous`);
        assert.equal((await call(app, method, `/api/courses/${draft.id}/`, { body: edit })).status, 401, `${method} anonymous draft`);
        for (const user of [student, otherInstructor]) {
          const onPublished = await call(app, method, `/api/courses/${published.id}/`, { token: user.access, body: edit });
          assert.equal(onPublished.status, 403, `${method} ${user.user.role} on published`);
          const onDraft = await call(app, method, `/api/courses/${draft.id}/`, { token: user.access, body: edit });
          assert.equal(onDraft.status, 404, `${method} ${user.user.role} on draft`);
          assert.deepEqual(onDraft.body, { detail: 'Not found.' });
        }
      }
      assert.equal((await call(app, 'PATCH', '/api/courses/987654/', { token: admin.access, body: { title: 'x' } })).status, 404);
      const after = await call(app, 'GET', `/api/courses/${published.id}/`);
      assert.equal(after.body.title, published.title);
    });
  });

  describe('delete', () => {
    it('lets the owner delete a course without students; it is gone', async () => {
      const course = await createCourse(app, { instructor: owner, category_id: categoryId });
      const res = await call(app, 'DELETE', `/api/courses/${course.id}/`, { token: owner.access });
      assert.equal(res.status, 204);
      assert.equal(res.text, '');
      assert.equal((await call(app, 'GET', `/api/courses/${course.id}/`, { token: owner.access })).status, 404);
      assert.equal((await call(app, 'DELETE', `/api/courses/${course.id}/`, { token: owner.access })).status, 404);
    });

    it('refuses the owner while students are enrolled (409); an admin deletes anyway', async () => {
      const course = await createCourse(app, { instructor: owner, category_id: categoryId });
      await app.database.db
        .insertInto('enrollments')
        .values({ student_id: student.user.id, course_id: course.id, enrolled_on: nowIso() })
        .execute();
      await app.database.db.updateTable('courses').set({ students_count: 1 }).where('id', '=', course.id).execute();
      const blocked = await call(app, 'DELETE', `/api/courses/${course.id}/`, { token: owner.access });
      assert.equal(blocked.status, 409);
      assert.match(blocked.body.detail, /enrolled/);
      assert.equal((await call(app, 'GET', `/api/courses/${course.id}/`)).status, 200);
      const byAdmin = await call(app, 'DELETE', `/api/courses/${course.id}/`, { token: admin.access });
      assert.equal(byAdmin.status, 204);
      const enrollments = await app.database.db.selectFrom('enrollments').select('id').where('course_id', '=', course.id).execute();
      assert.deepEqual(enrollments, [], 'enrollments go with the course');
    });

    it('refuses everyone else: 401 anonymous, 403 on a published course, 404 on a draft', async () => {
      const published = await createCourse(app, { instructor: owner, category_id: categoryId });
      const draft = await createCourse(app, { instructor: owner, category_id: categoryId, is_published: false });
      assert.equal((await call(app, 'DELETE', `/api/courses/${published.id}/`)).status, 401);
      for (const user of [student, otherInstructor]) {
        assert.equal((await call(app, 'DELETE', `/api/courses/${published.id}/`, { token: user.access })).status, 403);
        assert.equal((await call(app, 'DELETE', `/api/courses/${draft.id}/`, { token: user.access })).status, 404);
      }
      assert.equal((await call(app, 'GET', `/api/courses/${published.id}/`)).status, 200);
      assert.equal((await call(app, 'DELETE', `/api/courses/${draft.id}/`, { token: admin.access })).status, 204);
    });
  });

  describe('detail', () => {
    it('shows the lessons outline by order, live counters and the rounded rating', async () => {
      const course = await createCourse(app, {
        instructor: owner,
        category_id: categoryId,
        reviews_count: 3,
        rating_sum: 14,
        average_rating: 14 / 3,
        students_count: 7,
      });
      const lesson = (title: string, position: number, duration: number, isPreview: boolean) => ({
        course_id: course.id,
        title,
        content: 'secret',
        position,
        duration,
        is_preview: isPreview,
        video: null,
        attachment: null,
        created_at: nowIso(),
        updated_at: nowIso(),
      });
      await app.database.db
        .insertInto('lessons')
        .values([lesson('Second', 2, 60, false), lesson('First', 1, 30, true)])
        .execute();
      const res = await call(app, 'GET', `/api/courses/${course.id}/`);
      assert.equal(res.status, 200);
      assert.equal(res.body.average_rating, 4.67);
      assert.equal(res.body.reviews_count, 3);
      assert.equal(res.body.students_count, 7);
      assert.deepEqual(
        res.body.lessons.map((l: { title: string }) => l.title),
        ['First', 'Second'],
      );
      assert.deepEqual(Object.keys(res.body.lessons[0]).sort(), ['duration', 'id', 'is_preview', 'order', 'section', 'title']);
      assert.deepEqual(
        { ...res.body.lessons[0], id: 0 },
        { id: 0, title: 'First', order: 1, duration: 30, is_preview: true, section: null },
      );
    });

    it('shows a student their enrollment, and null to others', async () => {
      const course = await createCourse(app, { instructor: owner, category_id: categoryId });
      const enrolledOn = '2026-03-04T05:06:07.089Z';
      await app.database.db
        .insertInto('enrollments')
        .values({ student_id: student.user.id, course_id: course.id, enrolled_on: enrolledOn, progress: 50 })
        .execute();
      const mine = await call(app, 'GET', `/api/courses/${course.id}/`, { token: student.access });
      assert.deepEqual(mine.body.enrollment, { progress: 50, enrolled_on: enrolledOn, completed_at: null });
      const otherStudent = await createStudent(app);
      assert.equal((await call(app, 'GET', `/api/courses/${course.id}/`, { token: otherStudent.access })).body.enrollment, null);
      assert.equal((await call(app, 'GET', `/api/courses/${course.id}/`, { token: owner.access })).body.enrollment, null);
      assert.equal((await call(app, 'GET', `/api/courses/${course.id}/`)).body.enrollment, null);
    });

    it('is 404 for an unknown or malformed id', async () => {
      assert.deepEqual((await call(app, 'GET', '/api/courses/123456789/')).body, { detail: 'Not found.' });
      assert.equal((await call(app, 'GET', '/api/courses/abc/')).status, 404);
      assert.equal((await call(app, 'GET', '/api/courses/0/')).status, 404);
    });
  });

  describe('services for other modules', () => {
    it('findFacts tells owner and state; listItems keeps the given order and leaves out what the viewer may not see', async () => {
      const a = await createCourse(app, { instructor: owner, category_id: categoryId });
      const draft = await createCourse(app, { instructor: owner, category_id: categoryId, is_published: false });
      const b = await createCourse(app, { instructor: otherInstructor, category_id: categoryId });
      assert.deepEqual(await app.services.courses.findFacts(draft.id), {
        id: draft.id,
        title: draft.title,
        instructor_id: owner.user.id,
        is_published: false,
        sequential: false,
      });
      assert.equal(await app.services.courses.findFacts(999_999), undefined);
      const as = (viewer: { id: number; role: 'student' | 'instructor' } | null) => ({
        ...systemContext('http://example.test'),
        viewer: viewer && { ...viewer, sessionId: 's' },
      });
      const asStudent = await app.services.courses.listItems(as({ id: student.user.id, role: 'student' }), [b.id, draft.id, a.id, 999_999]);
      assert.deepEqual(
        asStudent.map((c) => c.id),
        [b.id, a.id],
      );
      const asOwner = await app.services.courses.listItems(as({ id: owner.user.id, role: 'instructor' }), [draft.id, b.id]);
      assert.deepEqual(
        asOwner.map((c) => c.id),
        [draft.id, b.id],
      );
      assert.deepEqual(Object.keys(asOwner[0]!).sort(), LIST_ITEM_FIELDS);
      assert.deepEqual(await app.services.courses.listItems(as(null), []), []);
    });
  });
});
