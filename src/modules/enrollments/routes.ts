import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { currentUser, requireRole, requireUser } from '../../plugins/auth.js';
import { PageSchema } from '../../shared/pagination.js';
import { originOf } from '../../shared/urls.js';
import {
  CompletionSchema,
  CourseIdParams,
  CourseStudentSchema,
  EnrollmentSchema,
  IdParams,
  PageOnlyQuery,
  ProgressDetailSchema,
  ProgressSchema,
} from './schemas.js';

const secured = [{ bearerAuth: [] }];
const tags = ['enrollments'];

export default async function enrollmentRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { enrollments } = app.services;
  const studentsOnly = requireRole('student');

  app.post('/api/enroll/:course_id/', {
    schema: {
      tags,
      summary: 'Enroll in a published course (students; instructors and admins get 403; already enrolled 409)',
      security: secured,
      params: CourseIdParams,
      response: { 201: EnrollmentSchema },
    },
    preParsing: studentsOnly,
  }, async (request, reply) => {
    reply.code(201);
    return enrollments.enroll(currentUser(request), request.params.course_id, originOf(request));
  });

  app.delete('/api/enroll/:course_id/', {
    schema: {
      tags,
      summary: 'Unenroll; the completions go too (not enrolled: 404)',
      security: secured,
      params: CourseIdParams,
      response: { 204: { description: 'Unenrolled; no body' } },
    },
    preParsing: requireUser,
  }, async (request, reply) => {
    await enrollments.unenroll(currentUser(request), request.params.course_id);
    return reply.code(204).send();
  });

  app.get('/api/my-courses/', {
    schema: {
      tags,
      summary: "The caller's enrollments, newest first",
      security: secured,
      querystring: PageOnlyQuery,
      response: { 200: PageSchema(EnrollmentSchema) },
    },
    preParsing: studentsOnly,
  }, async (request) => enrollments.myCourses(request, currentUser(request), request.query));

  app.get('/api/my-progress/', {
    schema: {
      tags,
      summary: "The caller's progress in each enrolled course, newest enrollment first",
      security: secured,
      querystring: PageOnlyQuery,
      response: { 200: PageSchema(ProgressSchema) },
    },
    preParsing: studentsOnly,
  }, async (request) => enrollments.myProgress(request, currentUser(request), request.query));

  app.get('/api/my-progress/:course_id/', {
    schema: {
      tags,
      summary: "The caller's progress in one course, lesson by lesson (404 unless enrolled)",
      security: secured,
      params: CourseIdParams,
      response: { 200: ProgressDetailSchema },
    },
    preParsing: requireUser,
  }, async (request) => enrollments.progressDetail(currentUser(request), request.params.course_id));

  for (const [method, done] of [['POST', true], ['DELETE', false]] as const) {
    app.route({
      method,
      url: '/api/lessons/:id/complete/',
      schema: {
        tags,
        summary: done ? 'Mark a lesson done (enrolled students; idempotent)' : 'Unmark a lesson (enrolled students; idempotent)',
        security: secured,
        params: IdParams,
        response: { 200: CompletionSchema },
      },
      preParsing: requireUser,
      handler: async (request) => enrollments.setLessonDone(currentUser(request), request.params.id, done),
    });
  }

  app.get('/api/courses/:id/students/', {
    schema: {
      tags: ['courses'],
      summary: 'The students of a course with their progress (the owner and admins), newest first',
      security: secured,
      params: IdParams,
      querystring: PageOnlyQuery,
      response: { 200: PageSchema(CourseStudentSchema) },
    },
    preParsing: requireUser,
  }, async (request) => enrollments.studentsOf(request, currentUser(request), request.params.id, request.query));
}
