import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { userContextOf } from '../../plugins/context.js';
import { PageSchema } from '../../shared/pagination.js';
import {
  CompletionSchema,
  CourseIdParams,
  CourseStudentSchema,
  EnrollmentSchema,
  IdParams,
  LessonPositionSchema,
  PageOnlyQuery,
  PositionBody,
  ProgressDetailSchema,
  ProgressSchema,
} from './schemas.js';

const tags = ['enrollments'];
const students = { auth: ['student'] } as const;
const signedIn = { auth: 'user' } as const;

export default async function enrollmentRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { enrollments } = app.services;

  app.post(
    '/api/enroll/:course_id/',
    {
      schema: {
        tags,
        summary: 'Enroll in a published course (students; instructors and admins get 403; already enrolled 409)',
        params: CourseIdParams,
        response: { 201: EnrollmentSchema },
      },
      config: students,
    },
    async (request, reply) => {
      reply.code(201);
      return enrollments.enroll(userContextOf(request), request.params.course_id);
    },
  );

  app.delete(
    '/api/enroll/:course_id/',
    {
      schema: {
        tags,
        summary: 'Unenroll; the completions go too (not enrolled: 404)',
        params: CourseIdParams,
        response: { 204: { description: 'Unenrolled; no body' } },
      },
      config: signedIn,
    },
    async (request, reply) => {
      await enrollments.unenroll(userContextOf(request), request.params.course_id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/my-courses/',
    {
      schema: {
        tags,
        summary: "The caller's enrollments, newest first",
        querystring: PageOnlyQuery,
        response: { 200: PageSchema(EnrollmentSchema) },
      },
      config: students,
    },
    async (request) => enrollments.myCourses(userContextOf(request), request.query),
  );

  app.get(
    '/api/my-progress/',
    {
      schema: {
        tags,
        summary: "The caller's progress in each enrolled course, newest enrollment first",
        querystring: PageOnlyQuery,
        response: { 200: PageSchema(ProgressSchema) },
      },
      config: students,
    },
    async (request) => enrollments.myProgress(userContextOf(request), request.query),
  );

  app.get(
    '/api/my-progress/:course_id/',
    {
      schema: {
        tags,
        summary: "The caller's progress in one course, lesson by lesson (404 unless enrolled)",
        description:
          'Each lesson with its completion and last reported `position`; `resume` is the lesson touched last (by position report or completion) and `next_lesson` the first lesson by order not completed.',
        params: CourseIdParams,
        response: { 200: ProgressDetailSchema },
      },
      config: signedIn,
    },
    async (request) => enrollments.progressDetail(userContextOf(request), request.params.course_id),
  );

  for (const [method, done] of [
    ['POST', true],
    ['DELETE', false],
  ] as const) {
    app.route({
      method,
      url: '/api/lessons/:id/complete/',
      schema: {
        tags,
        summary: done ? 'Mark a lesson done (enrolled students; idempotent)' : 'Unmark a lesson (enrolled students; idempotent)',
        description: done
          ? 'Not enrolled: 403. In a sequential course a lesson whose earlier lessons are not all completed is locked: 403 (`lesson_locked`).'
          : 'Allowed for a locked lesson too (unmarking never opens anything).',
        params: IdParams,
        response: { 200: CompletionSchema },
      },
      config: signedIn,
      handler: async (request) => enrollments.setLessonDone(userContextOf(request), request.params.id, done),
    });
  }

  app.put(
    '/api/lessons/:id/position/',
    {
      schema: {
        tags,
        summary: 'Report where the caller is in a lesson (the resume heartbeat; enrolled students)',
        description:
          'Called every few seconds while a video plays: one small write, no lock on the course. `position` is seconds (≥ 0, at most the ' +
          "lesson's `duration` when that is known: else 400). Reaching 90% of a known duration completes the lesson exactly as " +
          'POST /api/lessons/{id}/complete/ does (idempotent). Not enrolled: 403 (`not_enrolled`); a locked lesson of a sequential ' +
          "course: 403 (`lesson_locked`); someone else's draft or an unknown lesson: 404.",
        params: IdParams,
        body: PositionBody,
        response: { 200: LessonPositionSchema },
      },
      config: signedIn,
    },
    async (request) => enrollments.reportPosition(userContextOf(request), request.params.id, request.body.position),
  );

  app.get(
    '/api/courses/:id/students/',
    {
      schema: {
        tags: ['courses'],
        summary: 'The students of a course with their progress (the owner and admins), newest first',
        params: IdParams,
        querystring: PageOnlyQuery,
        response: { 200: PageSchema(CourseStudentSchema) },
      },
      config: signedIn,
    },
    async (request) => enrollments.studentsOf(userContextOf(request), request.params.id, request.query),
  );
}
