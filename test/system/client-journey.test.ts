import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createAdmin, PASSWORD } from '../helpers/factories.js';
import { createApiClient } from '../../client/index.js';
import type { Schemas } from '../../client/index.js';

/**
 * The generated client (openapi-typescript types + openapi-fetch) against a real listening
 * server: an instructor's and a student's journey end to end, every call typed by the document.
 */
describe("the typed client walks an instructor's and a student's journey", () => {
  let app: TestApp;
  let baseUrl: string;
  before(async () => {
    app = await buildTestApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    baseUrl = `http://127.0.0.1:${address.port}`;
  });
  after(() => app.close());

  it('register → approve → course → lessons → enroll → complete → review', async () => {
    const admin = await createAdmin(app);
    const adminApi = createApiClient(baseUrl);
    adminApi.setToken(admin.access);
    const category = await adminApi.POST('/api/categories/', { body: { name: 'Data Science & AI', description: 'Numbers' } });
    assert.equal(category.response.status, 201);
    assert.equal(category.data?.slug, 'data-science-ai');

    // The instructor registers, waits for approval, and builds a course.
    const teacherApi = createApiClient(baseUrl);
    const registered = await teacherApi.POST('/api/register/', {
      body: { username: 'ada', email: 'ada@example.com', password: PASSWORD, role: 'instructor', first_name: 'Ada' },
    });
    assert.equal(registered.response.status, 201);
    const ada: Schemas['User'] | undefined = registered.data;
    assert.equal(ada?.instructor_status, 'pending');
    const duplicate = await teacherApi.POST('/api/register/', {
      body: { username: 'ada', email: 'other@example.com', password: PASSWORD },
    });
    assert.equal(duplicate.response.status, 400);
    const validation = duplicate.error as Schemas['ValidationError'];
    const usernameErrors = validation.username;
    assert.ok(usernameErrors && usernameErrors.length > 0);

    const approved = await adminApi.POST('/api/admin/users/{id}/approve/', { params: { path: { id: ada.id } } });
    assert.equal(approved.data?.instructor_status, 'approved');

    const teacherLogin = await teacherApi.POST('/api/login/', { body: { username: 'ada', password: PASSWORD } });
    const tokens: Schemas['TokenPair'] | undefined = teacherLogin.data;
    assert.ok(tokens?.access);
    teacherApi.setToken(tokens.access);

    const created = await teacherApi.POST('/api/courses/', {
      body: {
        title: 'Statistics from scratch',
        description: 'Means, medians and more',
        price: '19.99',
        category: category.data.id,
        is_published: true,
      },
    });
    assert.equal(created.response.status, 201);
    const course: Schemas['CourseDetail'] = created.data!;
    assert.equal(course.price, '19.99');
    assert.equal(course.instructor.username, 'ada');

    const thumbnail = new FormData();
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#3366aa' } })
      .png()
      .toBuffer();
    thumbnail.append('thumbnail', new Blob([png], { type: 'image/png' }), 'cover.png');
    const withThumbnail = await teacherApi.PATCH('/api/courses/{id}/', {
      params: { path: { id: course.id } },
      body: {},
      bodySerializer: () => thumbnail,
    });
    assert.equal(withThumbnail.response.status, 200);
    assert.match(String(withThumbnail.data?.thumbnail), /^http:\/\/.*\.png$/);

    const lessons: Schemas['Lesson'][] = [];
    for (const [order, title] of [
      [1, 'What is a mean?'],
      [2, 'Medians'],
    ] as const) {
      const lesson = await teacherApi.POST('/api/lessons/', {
        body: { course: course.id, title, content: `# ${title}`, order, duration: 300, is_preview: order === 1 },
      });
      assert.equal(lesson.response.status, 201);
      lessons.push(lesson.data!);
    }
    const mine = await teacherApi.GET('/api/courses/', { params: { query: { mine: true } } });
    assert.deepEqual(
      mine.data?.results.map((c) => c.id),
      [course.id],
    );

    // The student registers, logs in, finds the course, enrolls, learns and reviews.
    const studentApi = createApiClient(baseUrl);
    assert.equal(
      (await studentApi.POST('/api/register/', { body: { username: 'sam', email: 'sam@example.com', password: PASSWORD } })).response
        .status,
      201,
    );
    const login = await studentApi.POST('/api/login/', { body: { username: 'sam@example.com', password: PASSWORD } });
    studentApi.setToken(login.data!.access);

    const catalog = await studentApi.GET('/api/courses/', {
      params: { query: { search: 'stat', is_free: false, page: 1, page_size: 10 } },
    });
    assert.equal(catalog.response.status, 200);
    const page: Schemas['PaginatedCourseList'] = catalog.data!;
    assert.deepEqual(
      page.results.map((c) => c.title),
      ['Statistics from scratch'],
    );
    const pastTheEnd = await studentApi.GET('/api/courses/', { params: { query: { page: 99 } } });
    assert.equal(pastTheEnd.response.status, 404);
    assert.equal(pastTheEnd.error?.detail, 'Invalid page.');

    const enrolled = await studentApi.POST('/api/enroll/{course_id}/', { params: { path: { course_id: course.id } } });
    assert.equal(enrolled.response.status, 201);
    const enrollment: Schemas['Enrollment'] = enrolled.data!;
    assert.equal(enrollment.progress, 0);

    const done = await studentApi.POST('/api/lessons/{id}/complete/', { params: { path: { id: lessons[0]!.id } } });
    const completion: Schemas['Completion'] = done.data!;
    assert.equal(completion.progress, 50);
    const progress = await studentApi.GET('/api/my-progress/{course_id}/', { params: { path: { course_id: course.id } } });
    assert.deepEqual(
      progress.data?.lessons.map((l) => l.completed),
      [true, false],
    );

    const review = await studentApi.POST('/api/reviews/', { body: { course: course.id, rating: 5, comment: 'Clear and short.' } });
    assert.equal(review.response.status, 201);
    const written: Schemas['Review'] = review.data!;
    assert.equal(written.student.username, 'sam');
    const reviews = await studentApi.GET('/api/reviews/', { params: { query: { course: course.id } } });
    assert.equal(reviews.data?.count, 1);

    const detail = await studentApi.GET('/api/courses/{id}/', { params: { path: { id: course.id } } });
    assert.equal(detail.data?.average_rating, 5);
    assert.equal(detail.data?.enrollment?.progress, 50);

    // An expired or bad token is typed too: the refresh interceptor's code.
    studentApi.setToken('not-a-token');
    const refused = await studentApi.GET('/api/profile/');
    assert.equal(refused.response.status, 401);
    assert.equal(refused.error?.code, 'token_not_valid');
  });
});
