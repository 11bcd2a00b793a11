/**
 * The permission matrix's world: its callers (created once: argon2 is slow, and the
 * factories share one hash anyway), the objects every read cell shares, builders of fresh
 * objects for write cells, and the routes the app registered, read from its router.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { LessonRow } from '../../src/db/types.js';
import { insertCertificate } from '../../src/modules/certificates/repository.js';
import { nowIso } from '../../src/shared/time.js';
import { enrollViaApi, reviewViaApi } from './actions.js';
import { createAdmin, createCategory, createCourse, createInstructor, createLesson, createStudent, PASSWORD } from './factories.js';
import type { TestUser } from './factories.js';
import { call, multipart } from './http.js';
import { samples, png } from './media.js';

export const CALLERS = ['anonymous', 'student', 'enrolled', 'pending', 'instructor', 'owner', 'admin', 'deactivated'] as const;
export type CallerName = (typeof CALLERS)[number];
export type Expect = Record<CallerName, number>;

/**
 * Expected statuses by caller: `_` for every caller not named, except `deactivated`, whose
 * token died with the deactivation (401 everywhere a token is judged) unless named.
 */
export function x(spec: Partial<Expect> & { _: number }): Expect {
  const out = {} as Expect;
  for (const c of CALLERS) out[c] = spec[c] ?? (c === 'deactivated' ? 401 : spec._);
  return out;
}

async function expectStatus<R extends { status: number; text: string }>(res: R, status: number, what: string): Promise<R> {
  if (res.status !== status) throw new Error(`matrix setup: ${what} gave ${res.status} ${res.text}`);
  return res;
}

/** A published or draft course of the owner: a preview and a non-preview lesson, the enrolled caller enrolled (published only). */
export async function courseOf(
  app: FastifyInstance,
  w: { owner: TestUser; enrolled: TestUser; category: { id: number } },
  published: boolean,
  options: { enroll?: boolean } = {},
) {
  // Enrollment goes through the API while the course is published; a draft is made by unpublishing afterwards if asked.
  const course = await createCourse(app, { instructor: w.owner, is_published: true, category_id: w.category.id });
  const preview = await createLesson(app, course.id, { is_preview: true });
  const lesson = await createLesson(app, course.id, { is_preview: false });
  if (published && (options.enroll ?? true)) await expectStatus(await enrollViaApi(app, w.enrolled, course.id), 201, 'enroll');
  if (!published) {
    await app.database.db.updateTable('courses').set({ is_published: false }).where('id', '=', course.id).execute();
    app.services.courses.catalogChanged();
  }
  return { course, preview, lesson };
}

export const QUIZ = {
  questions: [
    {
      kind: 'true_false',
      prompt: 'Is this a matrix?',
      choices: [
        { text: 'yes', correct: true },
        { text: 'no', correct: false },
      ],
    },
  ],
};

export async function quizOn(app: FastifyInstance, owner: TestUser, lesson: LessonRow) {
  return (await expectStatus(await call(app, 'PUT', `/api/lessons/${lesson.id}/quiz/`, { as: owner, body: QUIZ }), 200, 'quiz')).body as {
    id: number;
    questions: { id: number; choices: { id: number }[] }[];
  };
}

/** A review by the enrolled caller on a fresh published course, optionally with the owner's reply or hidden by the admin. */
export async function reviewOf(app: FastifyInstance, w: World, options: { reply?: boolean; hidden?: boolean } = {}) {
  const made = await courseOf(app, w, true);
  const { course } = made;
  const review = (await expectStatus(await reviewViaApi(app, w.enrolled, { course: course.id, rating: 4, comment: 'fine' }), 201, 'review'))
    .body as {
    id: number;
  };
  if (options.reply)
    await expectStatus(await call(app, 'PUT', `/api/reviews/${review.id}/reply/`, { as: w.owner, body: { text: 'thanks' } }), 200, 'reply');
  if (options.hidden) await expectStatus(await call(app, 'POST', `/api/admin/reviews/${review.id}/hide/`, { as: w.admin }), 200, 'hide');
  return { ...made, review };
}

/** A webhook endpoint of the owner. */
export async function webhookOf(app: FastifyInstance, w: { owner: TestUser }, url = 'http://127.0.0.1:9/matrix') {
  const res = await call(app, 'POST', '/api/webhooks/', { as: w.owner, body: { url, events: ['enrollment.created'] } });
  return (await expectStatus(res, 201, 'webhook')).body as { id: number };
}

/**
 * A webhook endpoint of the owner with one delivery still pending: an enrollment event fanned
 * out and tried once by the worker against `receiverUrl` (a receiver that answers 500).
 */
async function webhookWithDelivery(app: FastifyInstance, w: Parameters<typeof courseOf>[1], receiverUrl: string) {
  const endpoint = await webhookOf(app, w, receiverUrl);
  await courseOf(app, w, true);
  await app.services.webhookWorker.runOnce();
  const row = await app.database.db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('endpoint_id', '=', endpoint.id)
    .executeTakeFirstOrThrow();
  return { endpoint, deliveryId: row.id };
}

export async function certificateOf(app: FastifyInstance, studentId: number, courseId: number) {
  const code = randomBytes(16).toString('hex');
  await insertCertificate(app.database.db, { code, course_id: courseId, student_id: studentId, issued_at: nowIso() });
  return code;
}

/** A caller of the given kind made for one cell (for what ends or erases its own session or account). */
export async function freshCaller(app: FastifyInstance, w: World, who: CallerName): Promise<TestUser | undefined> {
  switch (who) {
    case 'anonymous':
      return undefined;
    case 'student':
      return createStudent(app);
    case 'enrolled': {
      const user = await createStudent(app);
      await expectStatus(await enrollViaApi(app, user, w.published.course.id), 201, 'enroll');
      return user;
    }
    case 'pending':
      return createInstructor(app, 'pending');
    case 'instructor':
      return createInstructor(app);
    case 'owner': {
      const user = await createInstructor(app);
      await createCourse(app, { instructor: user });
      return user;
    }
    case 'admin':
      return createAdmin(app);
    case 'deactivated':
      return deactivated(app, w.admin);
  }
}

/** A student whose account an admin deactivated: the token it still holds was revoked with it. */
async function deactivated(app: FastifyInstance, admin: TestUser) {
  const user = await createStudent(app);
  await expectStatus(
    await call(app, 'PATCH', `/api/admin/users/${user.user.id}/`, { as: admin, body: { is_active: false } }),
    200,
    'deactivate',
  );
  return user;
}

export type World = Awaited<ReturnType<typeof buildWorld>>;

/** The callers and the objects the read cells share (nothing here is changed by a cell). */
export async function buildWorld(app: FastifyInstance, options: { receiverUrl: string }) {
  const owner = await createInstructor(app);
  const callers = {
    student: await createStudent(app),
    enrolled: await createStudent(app),
    pending: await createInstructor(app, 'pending'),
    instructor: await createInstructor(app),
    owner,
    admin: await createAdmin(app),
  };
  // The category of every course the matrix makes.
  const category = await createCategory(app);
  const base = { ...callers, category };
  const published = await courseOf(app, base, true);
  const draft = await courseOf(app, base, false);
  const w0 = { ...base, published, draft };
  const quizzes = {
    preview: await quizOn(app, owner, published.preview),
    lesson: await quizOn(app, owner, published.lesson),
    draft: await quizOn(app, owner, draft.lesson),
  };
  const deactivatedUser = await deactivated(app, callers.admin);
  const w1 = { ...w0, quizzes, deactivated: deactivatedUser, anonymous: undefined };
  const review = await reviewOf(app, w1 as World);
  const hidden = await reviewOf(app, w1 as World, { hidden: true });
  // A course the enrolled caller enrolled in and reviewed, then unpublished by its owner.
  const unpublished = await reviewOf(app, w1 as World);
  const unpublish = await call(app, 'PATCH', `/api/courses/${unpublished.course.id}/`, { as: owner, body: { is_published: false } });
  await expectStatus(unpublish, 200, 'unpublish');
  // A sequential course: its second lesson (with a quiz) is locked for the enrolled caller until the first is completed.
  const sequential = await courseOf(app, base, true);
  await expectStatus(
    await call(app, 'PATCH', `/api/courses/${sequential.course.id}/`, { as: owner, body: { sequential: true } }),
    200,
    'sequential',
  );
  const sequentialQuiz = await quizOn(app, owner, sequential.lesson);
  const section = (
    await expectStatus(
      await call(app, 'POST', '/api/sections/', { as: owner, body: { course: published.course.id, title: 'Part one' } }),
      201,
      'section',
    )
  ).body as { id: number };
  const draftSection = (
    await expectStatus(
      await call(app, 'POST', '/api/sections/', { as: owner, body: { course: draft.course.id, title: 'Draft part' } }),
      201,
      'section',
    )
  ).body as { id: number };
  const webhook = await webhookWithDelivery(app, base, options.receiverUrl);
  const certificate = await certificateOf(app, callers.enrolled.user.id, published.course.id);
  // A thumbnail (public media) and a video (signed media) on the published course.
  const image = multipart({}, { thumbnail: { filename: 't.png', contentType: 'image/png', data: await png(8, 8) } });
  const withThumb = await call(app, 'PATCH', `/api/courses/${published.course.id}/`, {
    as: owner,
    body: image.payload,
    headers: image.headers,
  });
  await expectStatus(withThumb, 200, 'thumbnail');
  const video = multipart({}, { video: { filename: 'v.mp4', contentType: 'video/mp4', data: samples.mp4() } });
  const withVideo = await call(app, 'PATCH', `/api/lessons/${published.lesson.id}/`, {
    as: owner,
    body: video.payload,
    headers: video.headers,
  });
  await expectStatus(withVideo, 200, 'video');
  const media = {
    thumbnail: new URL(withThumb.body.thumbnail as string).pathname,
    signedVideo: ((u: URL) => u.pathname + u.search)(new URL(withVideo.body.video as string)),
    unsignedVideo: new URL(withVideo.body.video as string).pathname,
  };
  return {
    ...w1,
    review,
    hidden,
    unpublished,
    sequential,
    sequentialQuiz,
    section,
    draftSection,
    webhook,
    certificate,
    media,
    password: PASSWORD,
  };
}

/** The user a caller name stands for in the shared world (undefined: anonymous). */
export const callerOf = (w: World, who: CallerName): TestUser | undefined => w[who];

/**
 * Every route the app registered, as `METHOD /path/:param`, read from the router's own tree
 * (so routes hidden from the OpenAPI document count too). HEAD twins of GET routes are left out.
 */
export function registeredRoutes(app: FastifyInstance): string[] {
  const lines = app.printRoutes().split('\n');
  const prefixes: string[] = [];
  const routes = new Set<string>();
  for (const line of lines) {
    const m = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    const full = (prefixes[depth - 1] ?? '') + (m[2] ?? '');
    prefixes[depth] = full;
    prefixes.length = depth + 1;
    const methods = (m[3] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const method of methods) if (method !== 'HEAD' || !methods.includes('GET')) routes.add(`${method} ${full}`);
  }
  return [...routes].sort();
}

/** Whether a concrete URL is an instance of a route pattern (`:param` one segment, `*` the rest). */
export function matchesRoute(pattern: string, url: string): boolean {
  const path = url.split('?')[0] ?? url;
  const source = pattern
    .split(/(:[a-z_]+|\*)/)
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}/?$`).test(path);
}
