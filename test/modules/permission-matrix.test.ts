/**
 * The permission matrix: one table, every route × every caller × the object states that
 * matter → the status the HTTP contract (API.md, its "who" columns and error table) promises.
 * A route the app registers without a row here fails the first test, so a new endpoint
 * cannot ship without saying who may call it.
 *
 * How the contract is read where it leaves the order of checks open (as DRF orders them):
 * authentication (401, also for a dead token on public routes), then the route's role gate
 * (403: has_permission), then the object (404 when the caller may not see it: someone
 * else's draft, a hidden review, another's webhook), then the object's rights (403), then
 * validation (400). Lists refuse for lack of a role (admin lists, a student's own lists,
 * webhooks) but never for lack of rights on objects: they filter.
 *
 * Read cells share one world (nothing they touch changes); a write cell expected to succeed
 * gets its own object from `setup`, the refused cells of a row share one, and successful cells
 * that end or erase the caller's own session or account (`fresh`) get a caller made for them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { documentableRoutes } from '../../src/plugins/docs.js';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createCategory, createCourse, createInstructor, createStudent, unique } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { startReceiver } from '../helpers/webhooks.js';
import {
  buildWorld,
  callerOf,
  CALLERS,
  certificateOf,
  courseOf,
  freshCaller,
  matchesRoute,
  QUIZ,
  quizOn,
  registeredRoutes,
  reviewOf,
  webhookOf,
  x,
} from '../helpers/matrix.js';
import type { CallerName, Expect, World } from '../helpers/matrix.js';

interface Cell {
  url: string;
  body?: unknown;
}

interface Row<T> {
  /** `METHOD /path/:param`, as the router names it (no trailing slash). */
  route: string;
  /** The object state this row exercises. */
  state: string;
  expect: Expect;
  /** Builds the row's target once per cell (write rows); without it the target is undefined. */
  setup?: (who: CallerName) => Promise<T>;
  /** The caller is made for the cell (the request ends or erases its own session or account). */
  fresh?: boolean;
  request: (target: T, as: TestUser | undefined) => Cell;
}

/** Routes that are no endpoint of the contract: Swagger UI's page and assets, served by @fastify/swagger-ui. */
const INFRASTRUCTURE: Record<string, string> = {
  'GET /api/docs': 'Swagger UI page (contract: Operations, served from the package)',
  'GET /api/docs/static/*': 'Swagger UI static assets',
  'GET /api/docs/static/index.html': 'Swagger UI static assets',
  'GET /api/docs/static/swagger-initializer.js': 'Swagger UI static assets',
  'GET /api/docs/json': "Swagger UI's copy of /api/schema/",
  'GET /api/docs/yaml': "Swagger UI's copy of /api/schema/ as YAML",
};

/** Statuses that refuse the caller (rather than the request): they come before any look at the body. */
const REFUSALS = new Set([401, 403, 404]);

/**
 * Known gap: these routes validate the body (400) before the service refuses the caller
 * (403/404), where DRF checks permissions before the serializer runs. Routes with the object in
 * the path refuse first (`refuseBeforeBody`, src/plugins/context.ts); these learn their object
 * from the body (the creations) or check enrolment inside their transaction (position, attempts). A ratchet: a route that starts refusing first
 * fails the test until it is taken off the list, and no route may join it.
 */
const VALIDATES_BEFORE_REFUSING = new Set([
  'POST /api/courses',
  'POST /api/lessons',
  'PUT /api/lessons/:id/position',
  'POST /api/lessons/:id/quiz/attempts',
  'POST /api/sections',
  'POST /api/reviews',
  'POST /api/webhooks',
]);

// Expectation shorthands (deactivated: 401 unless named, see x()).
const ANY = (s: number) => x({ _: s });
const AUTH = (s: number) => x({ _: s, anonymous: 401 });
const ADMIN = (s: number) => x({ _: 403, anonymous: 401, admin: s });
const OWNER = (s: number) => x({ _: 403, anonymous: 401, owner: s, admin: s });
/** Someone else's draft is not there (404); anonymous writers are asked to log in first (401). */
const OWNER_DRAFT = (s: number) => x({ _: 404, anonymous: 401, owner: s, admin: s });
const STUDENTS = (s: number) => x({ _: 403, anonymous: 401, student: s, enrolled: s });
/**
 * Writes to someone else's draft behind a role gate (instructors and admins): the gate answers
 * students first (403, as DRF's has_permission runs before get_object), then the draft is not
 * there for other instructors (404).
 */
const GATED_DRAFT = (s: number) => x({ _: 404, anonymous: 401, student: 403, enrolled: 403, owner: s, admin: s });
/**
 * Creating under someone else's draft, named in the body: the gate answers students (403); for
 * other instructors the `course` field names no course they may use (400, DRF's "Invalid pk").
 */
const GATED_DRAFT_BODY = (s: number) => x({ _: 400, anonymous: 401, student: 403, enrolled: 403, owner: s, admin: s });
/** Webhooks are an instructor's and admin's feature (students: 403); another's endpoint is not there (404). */
const WEBHOOK = (s: number) => x({ _: 404, anonymous: 401, student: 403, enrolled: 403, owner: s, admin: s });

function table(app: TestApp, w: World): Row<unknown>[] {
  const P = w.published;
  const D = w.draft;
  const fresh = (published: boolean) => () => courseOf(app, w, published);
  // Each row is typed by its own target; the table holds them without it.
  const row = <T>(r: Row<T>) => r as unknown as Row<unknown>;
  const courseBody = () => ({ title: unique('Matrix '), description: 'd', price: '10.00', category: w.category.id });
  const answers = (quiz: World['quizzes']['lesson']) => ({
    answers: quiz.questions.map((q) => ({ question: q.id, choices: [q.choices[0]?.id] })),
  });
  const freshReview =
    (options: { reply?: boolean; hidden?: boolean } = {}) =>
    () =>
      reviewOf(app, w, options);
  const freshSection = (published: boolean) => async () => {
    const c = await courseOf(app, w, published);
    const s = await call(app, 'POST', '/api/sections/', { as: w.owner, body: { course: c.course.id, title: 'S' } });
    assert.equal(s.status, 201);
    return { ...c, section: s.body.id as number };
  };

  return [
    // ------------------------------------------------------------------ operations
    row({ route: 'GET /health', state: '-', expect: ANY(200), request: () => ({ url: '/health' }) }),
    row({ route: 'GET /ready', state: '-', expect: ANY(200), request: () => ({ url: '/ready' }) }),
    row({ route: 'GET /api/schema', state: '-', expect: ANY(200), request: () => ({ url: '/api/schema/' }) }),
    // Only the metrics token opens it; no user's JWT does.
    row({ route: 'GET /metrics', state: 'user tokens', expect: ANY(401), request: () => ({ url: '/metrics' }) }),
    row({ route: 'GET /media/*', state: 'thumbnail (public)', expect: ANY(200), request: () => ({ url: w.media.thumbnail }) }),
    row({ route: 'GET /media/*', state: 'video, signed URL', expect: ANY(200), request: () => ({ url: w.media.signedVideo }) }),
    row({ route: 'GET /media/*', state: 'video, no signature', expect: ANY(403), request: () => ({ url: w.media.unsignedVideo }) }),

    // ------------------------------------------------------------------ users and auth
    row({
      route: 'POST /api/register',
      state: '-',
      expect: ANY(201),
      request: () => {
        const username = unique('reg');
        return { url: '/api/register/', body: { username, email: `${username}@example.com`, password: 'a-long-Passphrase-42' } };
      },
    }),
    row({
      route: 'POST /api/login',
      state: '-',
      expect: ANY(200),
      request: () => ({ url: '/api/login/', body: { username: w.student.user.username, password: w.password } }),
    }),
    row({
      route: 'POST /api/token/refresh',
      state: 'a live refresh token',
      expect: ANY(200),
      setup: () => app.services.auth.startSession(w.student.user),
      request: (s) => ({ url: '/api/token/refresh/', body: { refresh: s.refresh } }),
    }),
    row({
      route: 'POST /api/logout',
      state: 'own session',
      fresh: true,
      expect: AUTH(205),
      request: (_t, as) => ({ url: '/api/logout/', body: { refresh: as?.refresh ?? w.student.refresh } }),
    }),
    row({ route: 'POST /api/logout-all', state: '-', fresh: true, expect: AUTH(205), request: () => ({ url: '/api/logout-all/' }) }),
    row({ route: 'GET /api/profile', state: '-', expect: AUTH(200), request: () => ({ url: '/api/profile/' }) }),
    row({ route: 'PATCH /api/profile', state: '-', expect: AUTH(200), request: () => ({ url: '/api/profile/', body: { bio: 'matrix' } }) }),
    row({
      route: 'PUT /api/profile',
      state: '-',
      expect: AUTH(200),
      request: (_t, as) => ({ url: '/api/profile/', body: { email: as?.user.email ?? 'a@example.com', bio: 'matrix' } }),
    }),
    row({
      route: 'PATCH /api/update-profile',
      state: '-',
      expect: AUTH(200),
      request: () => ({ url: '/api/update-profile/', body: { bio: 'matrix' } }),
    }),
    row({
      route: 'PUT /api/update-profile',
      state: '-',
      expect: AUTH(200),
      request: (_t, as) => ({ url: '/api/update-profile/', body: { email: as?.user.email ?? 'a@example.com' } }),
    }),
    // An instructor who still owns courses may not erase the account.
    row({
      route: 'DELETE /api/profile',
      state: 'own account',
      fresh: true,
      expect: x({ _: 204, anonymous: 401, owner: 409 }),
      request: () => ({ url: '/api/profile/', body: { password: w.password } }),
    }),
    row({
      route: 'POST /api/change-password',
      state: '-',
      fresh: true,
      expect: AUTH(200),
      request: () => ({ url: '/api/change-password/', body: { old_password: w.password, new_password: 'another-Passphrase-77' } }),
    }),
    row({ route: 'GET /api/profile/export', state: '-', expect: AUTH(200), request: () => ({ url: '/api/profile/export/' }) }),

    // ------------------------------------------------------------------ admin
    row({ route: 'GET /api/admin/users', state: '-', expect: ADMIN(200), request: () => ({ url: '/api/admin/users/' }) }),
    row({
      route: 'GET /api/admin/users/:id',
      state: 'a student',
      expect: ADMIN(200),
      request: () => ({ url: `/api/admin/users/${w.student.user.id}/` }),
    }),
    row({
      route: 'PATCH /api/admin/users/:id',
      state: 'a student',
      expect: ADMIN(200),
      setup: () => createStudent(app),
      request: (u) => ({ url: `/api/admin/users/${u.user.id}/`, body: { first_name: 'Matrix' } }),
    }),
    row({
      route: 'POST /api/admin/users/:id/approve',
      state: 'a pending instructor',
      expect: ADMIN(200),
      setup: () => createInstructor(app, 'pending'),
      request: (u) => ({ url: `/api/admin/users/${u.user.id}/approve/` }),
    }),
    row({
      route: 'POST /api/admin/users/:id/approve',
      state: 'a student',
      expect: ADMIN(400),
      request: () => ({ url: `/api/admin/users/${w.student.user.id}/approve/` }),
    }),
    row({
      route: 'POST /api/admin/users/:id/reject',
      state: 'a pending instructor',
      expect: ADMIN(200),
      setup: () => createInstructor(app, 'pending'),
      request: (u) => ({ url: `/api/admin/users/${u.user.id}/reject/` }),
    }),
    row({ route: 'GET /api/admin/audit', state: '-', expect: ADMIN(200), request: () => ({ url: '/api/admin/audit/' }) }),
    row({ route: 'GET /api/admin/reports', state: '-', expect: ADMIN(200), request: () => ({ url: '/api/admin/reports/' }) }),
    row({
      route: 'POST /api/admin/reviews/:id/hide',
      state: 'visible review',
      expect: ADMIN(200),
      setup: freshReview(),
      request: (r) => ({ url: `/api/admin/reviews/${r.review.id}/hide/` }),
    }),
    row({
      route: 'POST /api/admin/reviews/:id/unhide',
      state: 'hidden review',
      expect: ADMIN(200),
      setup: freshReview({ hidden: true }),
      request: (r) => ({ url: `/api/admin/reviews/${r.review.id}/unhide/` }),
    }),

    // ------------------------------------------------------------------ categories
    row({ route: 'GET /api/categories', state: '-', expect: ANY(200), request: () => ({ url: '/api/categories/' }) }),
    row({ route: 'GET /api/categories/:id', state: '-', expect: ANY(200), request: () => ({ url: `/api/categories/${w.category.id}/` }) }),
    row({
      route: 'POST /api/categories',
      state: '-',
      expect: ADMIN(201),
      request: () => ({ url: '/api/categories/', body: { name: unique('Matrix ') } }),
    }),
    row({
      route: 'PUT /api/categories/:id',
      state: '-',
      expect: ADMIN(200),
      setup: () => createCategory(app),
      request: (c) => ({ url: `/api/categories/${c.id}/`, body: { name: unique('Matrix '), description: 'd' } }),
    }),
    row({
      route: 'PATCH /api/categories/:id',
      state: '-',
      expect: ADMIN(200),
      setup: () => createCategory(app),
      request: (c) => ({ url: `/api/categories/${c.id}/`, body: { description: 'd' } }),
    }),
    row({
      route: 'DELETE /api/categories/:id',
      state: 'empty',
      expect: ADMIN(204),
      setup: () => createCategory(app),
      request: (c) => ({ url: `/api/categories/${c.id}/` }),
    }),
    row({
      route: 'DELETE /api/categories/:id',
      state: 'with a course',
      expect: ADMIN(409),
      request: () => ({ url: `/api/categories/${P.course.category_id}/` }),
    }),

    // ------------------------------------------------------------------ courses
    row({ route: 'GET /api/courses', state: '-', expect: ANY(200), request: () => ({ url: '/api/courses/' }) }),
    row({
      route: 'POST /api/courses',
      state: '-',
      expect: x({ _: 403, anonymous: 401, instructor: 201, owner: 201, admin: 201 }),
      request: () => ({ url: '/api/courses/', body: courseBody() }),
    }),
    row({ route: 'GET /api/courses/:id', state: 'published', expect: ANY(200), request: () => ({ url: `/api/courses/${P.course.id}/` }) }),
    row({
      route: 'GET /api/courses/:id',
      state: 'draft',
      expect: x({ _: 404, owner: 200, admin: 200 }),
      request: () => ({ url: `/api/courses/${D.course.id}/` }),
    }),
    ...[true, false].flatMap((published) => [
      row({
        route: 'PATCH /api/courses/:id',
        state: published ? 'published' : 'draft',
        expect: published ? OWNER(200) : OWNER_DRAFT(200),
        setup: fresh(published),
        request: (c) => ({ url: `/api/courses/${c.course.id}/`, body: { description: 'changed' } }),
      }),
      row({
        route: 'PUT /api/courses/:id',
        state: published ? 'published' : 'draft',
        expect: published ? OWNER(200) : OWNER_DRAFT(200),
        setup: fresh(published),
        request: (c) => ({ url: `/api/courses/${c.course.id}/`, body: { ...courseBody(), is_published: published } }),
      }),
      row({
        route: 'GET /api/courses/:id/students',
        state: published ? 'published' : 'draft',
        expect: published ? OWNER(200) : OWNER_DRAFT(200),
        request: () => ({ url: `/api/courses/${(published ? P : D).course.id}/students/` }),
      }),
      row({
        route: 'GET /api/courses/:id/analytics',
        state: published ? 'published' : 'draft',
        expect: published ? OWNER(200) : OWNER_DRAFT(200),
        request: () => ({ url: `/api/courses/${(published ? P : D).course.id}/analytics/` }),
      }),
      row({
        route: 'POST /api/courses/:id/reorder',
        state: published ? 'published' : 'draft',
        expect: published ? OWNER(200) : GATED_DRAFT(200),
        setup: fresh(published),
        request: (c) => ({ url: `/api/courses/${c.course.id}/reorder/`, body: { lessons: [c.lesson.id, c.preview.id] } }),
      }),
    ]),
    // The owner may not delete a course students are enrolled in; admins may.
    row({
      route: 'DELETE /api/courses/:id',
      state: 'published, a student enrolled',
      expect: x({ _: 403, anonymous: 401, owner: 409, admin: 204 }),
      setup: fresh(true),
      request: (c) => ({ url: `/api/courses/${c.course.id}/` }),
    }),
    row({
      route: 'DELETE /api/courses/:id',
      state: 'draft',
      expect: OWNER_DRAFT(204),
      setup: fresh(false),
      request: (c) => ({ url: `/api/courses/${c.course.id}/` }),
    }),
    row({
      route: 'GET /api/instructor/summary',
      state: '-',
      expect: x({ _: 403, anonymous: 401, pending: 200, instructor: 200, owner: 200, admin: 200 }),
      request: () => ({ url: '/api/instructor/summary/' }),
    }),

    // ------------------------------------------------------------------ lessons
    row({
      route: 'GET /api/lessons',
      state: 'published course',
      expect: ANY(200),
      request: () => ({ url: `/api/lessons/?course=${P.course.id}` }),
    }),
    row({
      route: 'GET /api/lessons',
      state: 'draft course',
      expect: ANY(200),
      request: () => ({ url: `/api/lessons/?course=${D.course.id}` }),
    }),
    row({ route: 'GET /api/lessons', state: 'no course', expect: ANY(200), request: () => ({ url: '/api/lessons/' }) }),
    row({
      route: 'GET /api/lessons/:id',
      state: 'preview, published',
      expect: ANY(200),
      request: () => ({ url: `/api/lessons/${P.preview.id}/` }),
    }),
    row({
      route: 'GET /api/lessons/:id',
      state: 'non-preview, published',
      expect: x({ _: 403, anonymous: 401, enrolled: 200, owner: 200, admin: 200 }),
      request: () => ({ url: `/api/lessons/${P.lesson.id}/` }),
    }),
    row({
      route: 'GET /api/lessons/:id',
      state: 'preview, draft',
      expect: x({ _: 404, owner: 200, admin: 200 }),
      request: () => ({ url: `/api/lessons/${D.preview.id}/` }),
    }),
    row({
      route: 'GET /api/lessons/:id',
      state: 'non-preview, draft',
      expect: x({ _: 404, owner: 200, admin: 200 }),
      request: () => ({ url: `/api/lessons/${D.lesson.id}/` }),
    }),
    ...[true, false].flatMap((published) => {
      const state = published ? 'published' : 'draft';
      const writers = (s: number) => (published ? OWNER(s) : GATED_DRAFT(s));
      const creators = (s: number) => (published ? OWNER(s) : GATED_DRAFT_BODY(s));
      return [
        row({
          route: 'POST /api/lessons',
          state,
          expect: creators(201),
          setup: fresh(published),
          request: (c) => ({ url: '/api/lessons/', body: { course: c.course.id, title: 'New lesson' } }),
        }),
        row({
          route: 'PATCH /api/lessons/:id',
          state,
          expect: writers(200),
          setup: fresh(published),
          request: (c) => ({ url: `/api/lessons/${c.lesson.id}/`, body: { title: 'Renamed' } }),
        }),
        row({
          route: 'PUT /api/lessons/:id',
          state,
          expect: writers(200),
          setup: fresh(published),
          request: (c) => ({ url: `/api/lessons/${c.lesson.id}/`, body: { course: c.course.id, title: 'Replaced', content: 'c' } }),
        }),
        row({
          route: 'DELETE /api/lessons/:id',
          state,
          expect: writers(204),
          setup: fresh(published),
          request: (c) => ({ url: `/api/lessons/${c.lesson.id}/` }),
        }),
        // The quiz routes have no role gate: someone else's draft is simply not there.
        row({
          route: 'PUT /api/lessons/:id/quiz',
          state,
          expect: published ? OWNER(200) : OWNER_DRAFT(200),
          setup: fresh(published),
          request: (c) => ({ url: `/api/lessons/${c.lesson.id}/quiz/`, body: QUIZ }),
        }),
        row({
          route: 'DELETE /api/lessons/:id/quiz',
          state,
          expect: published ? OWNER(204) : OWNER_DRAFT(204),
          setup: async () => {
            const c = await courseOf(app, w, published);
            await quizOn(app, w.owner, c.lesson);
            return c;
          },
          request: (c) => ({ url: `/api/lessons/${c.lesson.id}/quiz/` }),
        }),
        row({
          route: 'GET /api/sections',
          state,
          expect: ANY(200),
          request: () => ({ url: `/api/sections/?course=${(published ? P : D).course.id}` }),
        }),
        row({
          route: 'GET /api/sections/:id',
          state,
          expect: published ? ANY(200) : x({ _: 404, owner: 200, admin: 200 }),
          request: () => ({ url: `/api/sections/${published ? w.section.id : w.draftSection.id}/` }),
        }),
        row({
          route: 'POST /api/sections',
          state,
          expect: creators(201),
          setup: fresh(published),
          request: (c) => ({ url: '/api/sections/', body: { course: c.course.id, title: 'S' } }),
        }),
        row({
          route: 'PATCH /api/sections/:id',
          state,
          expect: writers(200),
          setup: freshSection(published),
          request: (c) => ({ url: `/api/sections/${c.section}/`, body: { title: 'T' } }),
        }),
        row({
          route: 'PUT /api/sections/:id',
          state,
          expect: writers(200),
          setup: freshSection(published),
          request: (c) => ({ url: `/api/sections/${c.section}/`, body: { course: c.course.id, title: 'T' } }),
        }),
        row({
          route: 'DELETE /api/sections/:id',
          state,
          expect: writers(204),
          setup: freshSection(published),
          request: (c) => ({ url: `/api/sections/${c.section}/` }),
        }),
      ];
    }),

    // ------------------------------------------------------------------ learning: completion, position, quizzes
    ...[
      ['POST /api/lessons/:id/complete', 'complete/', undefined],
      ['DELETE /api/lessons/:id/complete', 'complete/', undefined],
      ['PUT /api/lessons/:id/position', 'position/', { position: 1 }],
    ].flatMap(([route, suffix, body]) => [
      row({
        route: route as string,
        state: 'non-preview, published',
        expect: x({ _: 403, anonymous: 401, enrolled: 200 }),
        setup: fresh(true),
        request: (c) => ({ url: `/api/lessons/${c.lesson.id}/${suffix as string}`, body }),
      }),
      // Preview opens reading, not learning: only enrolled students complete lessons.
      row({
        route: route as string,
        state: 'preview, published',
        expect: x({ _: 403, anonymous: 401, enrolled: 200 }),
        setup: fresh(true),
        request: (c) => ({ url: `/api/lessons/${c.preview.id}/${suffix as string}`, body }),
      }),
      row({
        route: route as string,
        state: 'draft',
        expect: x({ _: 404, anonymous: 401, owner: 403, admin: 403 }),
        request: () => ({ url: `/api/lessons/${D.lesson.id}/${suffix as string}`, body }),
      }),
    ]),
    // A lesson with a quiz completes by passing it (400), which only an enrolled student is told.
    row({
      route: 'POST /api/lessons/:id/complete',
      state: 'non-preview with a quiz, published',
      expect: x({ _: 403, anonymous: 401, enrolled: 400 }),
      request: () => ({ url: `/api/lessons/${P.lesson.id}/complete/` }),
    }),
    row({
      route: 'GET /api/lessons/:id/quiz',
      state: 'preview, published',
      expect: ANY(200),
      request: () => ({ url: `/api/lessons/${P.preview.id}/quiz/` }),
    }),
    row({
      route: 'GET /api/lessons/:id/quiz',
      state: 'non-preview, published',
      expect: x({ _: 403, anonymous: 401, enrolled: 200, owner: 200, admin: 200 }),
      request: () => ({ url: `/api/lessons/${P.lesson.id}/quiz/` }),
    }),
    row({
      route: 'GET /api/lessons/:id/quiz',
      state: 'draft',
      expect: x({ _: 404, owner: 200, admin: 200 }),
      request: () => ({ url: `/api/lessons/${D.lesson.id}/quiz/` }),
    }),
    row({
      route: 'POST /api/lessons/:id/quiz/attempts',
      state: 'non-preview, published',
      expect: x({ _: 403, anonymous: 401, enrolled: 201 }),
      request: () => ({ url: `/api/lessons/${P.lesson.id}/quiz/attempts/`, body: answers(w.quizzes.lesson) }),
    }),
    row({
      route: 'POST /api/lessons/:id/quiz/attempts',
      state: 'draft',
      expect: x({ _: 403, anonymous: 401, student: 404, enrolled: 404 }),
      request: () => ({ url: `/api/lessons/${D.lesson.id}/quiz/attempts/`, body: answers(w.quizzes.draft) }),
    }),
    row({
      route: 'GET /api/lessons/:id/quiz/attempts',
      state: 'non-preview, published',
      expect: x({ _: 403, anonymous: 401, enrolled: 200, owner: 200, admin: 200 }),
      request: () => ({ url: `/api/lessons/${P.lesson.id}/quiz/attempts/` }),
    }),
    row({
      route: 'GET /api/lessons/:id/quiz/attempts',
      state: 'draft',
      expect: x({ _: 404, anonymous: 401, owner: 200, admin: 200 }),
      request: () => ({ url: `/api/lessons/${D.lesson.id}/quiz/attempts/` }),
    }),

    // ------------------------------------------------------------------ a locked lesson (sequential course, previous lesson not done)
    // "not readable in full by that student (403) ... cannot be completed (403)"; owners and admins are not affected.
    ...(
      [
        ['GET /api/lessons/:id', 'GET', '', x({ _: 403, anonymous: 401, owner: 200, admin: 200 })],
        ['GET /api/lessons/:id/quiz', 'GET', 'quiz/', x({ _: 403, anonymous: 401, owner: 200, admin: 200 })],
        ['POST /api/lessons/:id/complete', 'POST', 'complete/', x({ _: 403, anonymous: 401 })],
        ['PUT /api/lessons/:id/position', 'PUT', 'position/', x({ _: 403, anonymous: 401 })],
        ['POST /api/lessons/:id/quiz/attempts', 'POST', 'quiz/attempts/', x({ _: 403, anonymous: 401 })],
      ] as const
    ).map(([route, method, suffix, expect]) =>
      row({
        route,
        state: 'locked (sequential), published',
        expect,
        request: () => ({
          url: `/api/lessons/${w.sequential.lesson.id}/${suffix}`,
          body: method === 'PUT' ? { position: 1 } : method === 'POST' && suffix !== 'complete/' ? answers(w.sequentialQuiz) : undefined,
        }),
      }),
    ),
    // A course unpublished after the enrolled caller joined and reviewed it is a draft like any other:
    // not there for anyone but its owner and admins, the enrolled student included.
    row({
      route: 'GET /api/lessons/:id',
      state: 'non-preview, unpublished after enrolling',
      expect: x({ _: 404, owner: 200, admin: 200 }),
      request: () => ({ url: `/api/lessons/${w.unpublished.lesson.id}/` }),
    }),
    row({
      route: 'GET /api/reviews/:id',
      state: 'course unpublished after the review',
      expect: x({ _: 404, owner: 200, admin: 200 }),
      request: () => ({ url: `/api/reviews/${w.unpublished.review.id}/` }),
    }),
    row({
      route: 'GET /api/my-progress/:course_id',
      state: 'unpublished after enrolling',
      expect: x({ _: 404, anonymous: 401 }),
      request: () => ({ url: `/api/my-progress/${w.unpublished.course.id}/` }),
    }),
    // The owner does not see a hidden review (only its author and admins do), so cannot reply to it.
    row({
      route: 'PUT /api/reviews/:id/reply',
      state: 'hidden',
      expect: x({ _: 404, anonymous: 401, enrolled: 403, admin: 403 }),
      request: () => ({ url: `/api/reviews/${w.hidden.review.id}/reply/`, body: { text: 'Thanks' } }),
    }),

    // ------------------------------------------------------------------ enrollment and progress
    row({
      route: 'POST /api/enroll/:course_id',
      state: 'published (the enrolled caller already in)',
      expect: x({ _: 403, anonymous: 401, student: 201, enrolled: 409 }),
      setup: fresh(true),
      request: (c) => ({ url: `/api/enroll/${c.course.id}/` }),
    }),
    row({
      route: 'POST /api/enroll/:course_id',
      state: 'draft',
      expect: x({ _: 403, anonymous: 401, student: 404, enrolled: 404 }),
      request: () => ({ url: `/api/enroll/${D.course.id}/` }),
    }),
    row({
      route: 'DELETE /api/enroll/:course_id',
      state: 'published',
      // "the enrolled student; not enrolled 404": nobody else is enrolled.
      expect: x({ _: 404, anonymous: 401, enrolled: 204 }),
      setup: fresh(true),
      request: (c) => ({ url: `/api/enroll/${c.course.id}/` }),
    }),
    row({ route: 'GET /api/my-courses', state: '-', expect: STUDENTS(200), request: () => ({ url: '/api/my-courses/' }) }),
    row({ route: 'GET /api/my-progress', state: '-', expect: STUDENTS(200), request: () => ({ url: '/api/my-progress/' }) }),
    row({ route: 'GET /api/my-certificates', state: '-', expect: STUDENTS(200), request: () => ({ url: '/api/my-certificates/' }) }),
    // "the enrolled student (anyone else: 404)"
    row({
      route: 'GET /api/my-progress/:course_id',
      state: 'published',
      expect: x({ _: 404, anonymous: 401, enrolled: 200 }),
      request: () => ({ url: `/api/my-progress/${P.course.id}/` }),
    }),
    row({
      route: 'GET /api/my-progress/:course_id',
      state: 'draft',
      expect: x({ _: 404, anonymous: 401 }),
      request: () => ({ url: `/api/my-progress/${D.course.id}/` }),
    }),

    // ------------------------------------------------------------------ reviews
    row({
      route: 'POST /api/reviews',
      state: 'published',
      expect: x({ _: 403, anonymous: 401, enrolled: 201 }),
      setup: fresh(true),
      request: (c) => ({ url: '/api/reviews/', body: { course: c.course.id, rating: 5, comment: 'ok' } }),
    }),
    row({ route: 'GET /api/reviews', state: '-', expect: ANY(200), request: () => ({ url: `/api/reviews/?course=${P.course.id}` }) }),
    row({
      route: 'GET /api/reviews/:id',
      state: 'visible',
      expect: ANY(200),
      request: () => ({ url: `/api/reviews/${w.review.review.id}/` }),
    }),
    // A hidden review: its author and admins still see it.
    row({
      route: 'GET /api/reviews/:id',
      state: 'hidden',
      expect: x({ _: 404, enrolled: 200, admin: 200 }),
      request: () => ({ url: `/api/reviews/${w.hidden.review.id}/` }),
    }),
    ...(['PUT', 'PATCH'] as const).flatMap((method) => [
      // Admins moderate by deleting: they may not rewrite a student's words.
      row({
        route: `${method} /api/reviews/:id`,
        state: 'visible',
        expect: x({ _: 403, anonymous: 401, enrolled: 200 }),
        setup: freshReview(),
        request: (r) => ({ url: `/api/reviews/${r.review.id}/`, body: { rating: 3, comment: 'edited' } }),
      }),
      row({
        route: `${method} /api/reviews/:id`,
        state: 'hidden',
        expect: x({ _: 404, anonymous: 401, enrolled: 200, admin: 403 }),
        setup: freshReview({ hidden: true }),
        request: (r) => ({ url: `/api/reviews/${r.review.id}/`, body: { rating: 3, comment: 'edited' } }),
      }),
    ]),
    row({
      route: 'DELETE /api/reviews/:id',
      state: 'visible',
      expect: x({ _: 403, anonymous: 401, enrolled: 204, admin: 204 }),
      setup: freshReview(),
      request: (r) => ({ url: `/api/reviews/${r.review.id}/` }),
    }),
    row({
      route: 'DELETE /api/reviews/:id',
      state: 'hidden',
      expect: x({ _: 404, anonymous: 401, enrolled: 204, admin: 204 }),
      setup: freshReview({ hidden: true }),
      request: (r) => ({ url: `/api/reviews/${r.review.id}/` }),
    }),
    row({
      route: 'PUT /api/reviews/:id/reply',
      state: 'visible',
      expect: x({ _: 403, anonymous: 401, owner: 200 }),
      setup: freshReview(),
      request: (r) => ({ url: `/api/reviews/${r.review.id}/reply/`, body: { text: 'Thanks' } }),
    }),
    row({
      route: 'DELETE /api/reviews/:id/reply',
      state: 'with a reply',
      expect: OWNER(204),
      setup: freshReview({ reply: true }),
      request: (r) => ({ url: `/api/reviews/${r.review.id}/reply/` }),
    }),
    // Reporting again changes nothing, so the shared review serves every cell.
    row({
      route: 'POST /api/reviews/:id/report',
      state: 'visible',
      expect: x({ _: 202, anonymous: 401, enrolled: 403 }),
      request: () => ({ url: `/api/reviews/${w.review.review.id}/report/`, body: { reason: 'spam' } }),
    }),
    row({
      route: 'POST /api/reviews/:id/report',
      state: 'hidden',
      expect: x({ _: 404, anonymous: 401, enrolled: 403, admin: 202 }),
      request: () => ({ url: `/api/reviews/${w.hidden.review.id}/report/`, body: { reason: 'spam' } }),
    }),

    // ------------------------------------------------------------------ certificates
    row({
      route: 'GET /api/certificates/:code',
      state: '-',
      expect: ANY(200),
      request: () => ({ url: `/api/certificates/${w.certificate}/` }),
    }),
    row({
      route: 'GET /api/certificates/:code/pdf',
      state: '-',
      expect: ANY(200),
      request: () => ({ url: `/api/certificates/${w.certificate}/pdf/` }),
    }),
    row({
      route: 'POST /api/certificates/:code/revoke',
      state: 'valid',
      expect: ADMIN(200),
      setup: async () => certificateOf(app, w.enrolled.user.id, (await createCourse(app, { instructor: w.owner })).id),
      request: (code) => ({ url: `/api/certificates/${code}/revoke/` }),
    }),

    // ------------------------------------------------------------------ webhooks (the owner's endpoint; anyone else is told it does not exist)
    row({
      route: 'POST /api/webhooks',
      state: '-',
      expect: x({ _: 403, anonymous: 401, instructor: 201, owner: 201, admin: 201 }),
      request: () => ({ url: '/api/webhooks/', body: { url: 'http://127.0.0.1:9/matrix', events: ['*'] } }),
    }),
    row({
      route: 'GET /api/webhooks',
      state: '-',
      expect: x({ _: 200, anonymous: 401, student: 403, enrolled: 403 }),
      request: () => ({ url: '/api/webhooks/' }),
    }),
    row({
      route: 'GET /api/webhooks/:id',
      state: "the owner's",
      expect: WEBHOOK(200),
      request: () => ({ url: `/api/webhooks/${w.webhook.endpoint.id}/` }),
    }),
    row({
      route: 'PATCH /api/webhooks/:id',
      state: "the owner's",
      expect: WEBHOOK(200),
      setup: () => webhookOf(app, w),
      request: (h) => ({ url: `/api/webhooks/${h.id}/`, body: { is_active: false } }),
    }),
    row({
      route: 'DELETE /api/webhooks/:id',
      state: "the owner's",
      expect: WEBHOOK(204),
      setup: () => webhookOf(app, w),
      request: (h) => ({ url: `/api/webhooks/${h.id}/` }),
    }),
    row({
      route: 'GET /api/webhooks/:id/deliveries',
      state: "the owner's",
      expect: WEBHOOK(200),
      request: () => ({ url: `/api/webhooks/${w.webhook.endpoint.id}/deliveries/` }),
    }),
    row({
      route: 'POST /api/webhooks/:id/deliveries/:delivery_id/retry',
      state: "the owner's",
      expect: WEBHOOK(202),
      // A retry only makes the delivery due again, so the shared one serves every cell.
      request: () => ({ url: `/api/webhooks/${w.webhook.endpoint.id}/deliveries/${w.webhook.deliveryId}/retry/` }),
    }),
  ];
}

describe('permission matrix', () => {
  let app: TestApp;
  let w: World;
  let rows: Row<unknown>[];
  let cells = 0;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    receiver = await startReceiver(() => 500);
    app = await buildTestApp({
      METRICS_TOKEN: 'matrix-metrics-token-0123456789abcdef',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_WORKER: 'false',
    });
    w = await buildWorld(app, { receiverUrl: receiver.url('/matrix') });
    rows = table(app, w);
  });
  after(async () => {
    console.log(
      `permission matrix: ${new Set(rows.map((r) => r.route)).size} routes, ${rows.length} rows, ${CALLERS.length} callers, ${cells} cells`,
    );
    await app.close();
    await receiver.close();
  });

  it('has a row for every route the app registers, and no row for a route it does not', () => {
    const registered = registeredRoutes(app);
    const covered = new Set(rows.map((r) => r.route));
    const missing = registered.filter((r) => !covered.has(r) && !(r in INFRASTRUCTURE));
    const unknown = [...covered].filter((r) => !registered.includes(r));
    assert.deepEqual(missing, [], `routes without a row in the permission matrix:\n${missing.join('\n')}`);
    assert.deepEqual(unknown, [], `rows for routes the app does not register:\n${unknown.join('\n')}`);
    for (const r of Object.keys(INFRASTRUCTURE)) assert.ok(registered.includes(r), `${r} is listed as infrastructure but not registered`);
    // The reader of the router sees at least every route the OpenAPI document lists (and the hidden ones).
    const documented = documentableRoutes(app).map((r) => `${r.method} ${r.url.replace(/\/$/, '')}`);
    assert.ok(documented.length > 80, `only ${documented.length} documented routes`);
    assert.deepEqual(
      documented.filter((r) => !registered.includes(r)),
      [],
      'routes the document lists that the router reader missed',
    );
  });

  it('answers every cell as the contract says', async () => {
    const failures: string[] = [];
    const validatesFirst = new Set<string>();
    for (const r of rows) {
      const [method, pattern] = r.route.split(' ') as [string, string];
      // A cell expected to succeed gets its own target (and caller, for `fresh` rows); the cells
      // expected to be refused share one, which a refusal leaves as it was. A refusal that
      // wrongly succeeds is reported at its own cell whatever it does to the shared target.
      let refused: { target: unknown } | undefined;
      for (const who of CALLERS) {
        const succeeds = r.expect[who] < 400;
        const as = r.fresh && succeeds ? await freshCaller(app, w, who) : callerOf(w, who);
        const target = !r.setup ? undefined : succeeds ? await r.setup(who) : (refused ??= { target: await r.setup(who) }).target;
        const cell = r.request(target, as);
        assert.ok(matchesRoute(pattern, cell.url), `${r.route} [${r.state}]: ${cell.url} is not an instance of the route`);
        const res = await call(app, method, cell.url, {
          ...(as ? { as } : {}),
          ...(cell.body === undefined ? {} : { body: cell.body }),
        });
        cells++;
        if (res.status !== r.expect[who]) {
          failures.push(`${r.route} [${r.state}] as ${who}: expected ${r.expect[who]}, got ${res.status} ${res.text.slice(0, 160)}`);
        }
        // A refusal comes before validation: the same caller with a body that is not even an
        // object is refused the same way (not told what a valid body would be).
        if (cell.body !== undefined && REFUSALS.has(r.expect[who])) {
          const bad = await call(app, method, cell.url, { ...(as ? { as } : {}), body: [] });
          cells++;
          if (bad.status !== r.expect[who]) {
            if (VALIDATES_BEFORE_REFUSING.has(r.route)) validatesFirst.add(r.route);
            else
              failures.push(
                `${r.route} [${r.state}] as ${who}, body []: expected ${r.expect[who]}, got ${bad.status} ${bad.text.slice(0, 160)}`,
              );
          }
        }
      }
    }
    for (const route of VALIDATES_BEFORE_REFUSING) {
      if (!validatesFirst.has(route)) failures.push(`${route} now refuses before validating: take it off VALIDATES_BEFORE_REFUSING`);
    }
    assert.deepEqual(failures, [], `${failures.length} cells disagree with the contract:\n${failures.join('\n')}`);
  });
});
