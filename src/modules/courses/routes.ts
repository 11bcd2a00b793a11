import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf, refuseBeforeBody, userContextOf } from '../../plugins/context.js';
import { PageSchema } from '../../shared/pagination.js';
import { CourseCreateBody, CourseDetailSchema, CourseIdParams, CourseListItemSchema, CourseListQuery, CoursePatchBody } from './schemas.js';

const tags = ['courses'];
const thumbnail = { thumbnail: { kind: 'image', folder: 'thumbnails' } } as const;
const writers = { auth: 'user', uploads: thumbnail } as const;

export default async function courseRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { courses } = app.services;

  app.get(
    '/api/courses/',
    {
      schema: {
        tags,
        summary: 'The catalog: published courses (and the caller’s own with mine=true), searched, filtered, ordered',
        querystring: CourseListQuery,
        response: { 200: PageSchema(CourseListItemSchema) },
      },
      config: { auth: 'public' },
    },
    async (request) => courses.list(contextOf(request), request.query),
  );

  app.get(
    '/api/courses/:id/',
    {
      schema: {
        tags,
        summary: 'A course with its lessons outline and, for a student, their enrollment; a draft only for its owner and admins',
        params: CourseIdParams,
        response: { 200: CourseDetailSchema },
      },
      config: { auth: 'public' },
    },
    async (request) => courses.detail(contextOf(request), request.params.id),
  );

  app.post(
    '/api/courses/',
    {
      schema: {
        tags,
        summary: 'Create a course (approved instructors and admins); a draft unless is_published',
        body: CourseCreateBody,
        response: { 201: CourseDetailSchema },
      },
      config: writers,
    },
    async (request, reply) => {
      reply.code(201);
      return courses.create(userContextOf(request), request.body, request.uploads?.thumbnail);
    },
  );

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/courses/:id/',
      schema: {
        tags,
        summary: method === 'PUT' ? 'Replace a course (its owner, admins)' : 'Update a course (its owner, admins)',
        params: CourseIdParams,
        body: method === 'PUT' ? CourseCreateBody : CoursePatchBody,
        response: { 200: CourseDetailSchema },
      },
      config: writers,
      preParsing: refuseBeforeBody((ctx, id) => courses.checkEditable(ctx, id)),
      handler: async (request) => courses.update(userContextOf(request), request.params.id, request.body, request.uploads?.thumbnail),
    });
  }

  app.delete(
    '/api/courses/:id/',
    {
      schema: {
        tags,
        summary: 'Delete a course and its files (its owner while no student is enrolled, admins)',
        params: CourseIdParams,
        response: { 204: { description: 'Deleted; no body' } },
      },
      config: { auth: 'user' },
    },
    async (request, reply) => {
      await courses.remove(userContextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );
}
