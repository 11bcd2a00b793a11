import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { currentUser, requireUser } from '../../plugins/auth.js';
import { PageSchema } from '../../shared/pagination.js';
import { originOf } from '../../shared/urls.js';
import {
  CourseCreateBody,
  CourseDetailSchema,
  CourseIdParams,
  CourseListItemSchema,
  CourseListQuery,
  CoursePatchBody,
} from './schemas.js';

const tags = ['courses'];
const secured = [{ bearerAuth: [] }];
const thumbnail = { thumbnail: { kind: 'image', folder: 'thumbnails' } } as const;

export default async function courseRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { courses } = app.services;

  app.get('/api/courses/', {
    schema: {
      tags,
      summary: 'The catalog: published courses (and the caller’s own with mine=true), searched, filtered, ordered',
      querystring: CourseListQuery,
      response: { 200: PageSchema(CourseListItemSchema) },
    },
  }, async (request) => courses.list(request, request.user, request.query));

  app.get('/api/courses/:id/', {
    schema: {
      tags,
      summary: 'A course with its lessons outline and, for a student, their enrollment; a draft only for its owner and admins',
      params: CourseIdParams,
      response: { 200: CourseDetailSchema },
    },
  }, async (request) => courses.detail(request.user, request.params.id, originOf(request)));

  app.post('/api/courses/', {
    schema: {
      tags,
      summary: 'Create a course (approved instructors and admins); a draft unless is_published',
      security: secured,
      body: CourseCreateBody,
      response: { 201: CourseDetailSchema },
    },
    config: { uploads: thumbnail },
    preParsing: requireUser,
  }, async (request, reply) => {
    reply.code(201);
    return courses.create(currentUser(request), request.body, request.uploads?.thumbnail, originOf(request));
  });

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/courses/:id/',
      schema: {
        tags,
        summary: method === 'PUT' ? 'Replace a course (its owner, admins)' : 'Update a course (its owner, admins)',
        security: secured,
        params: CourseIdParams,
        body: method === 'PUT' ? CourseCreateBody : CoursePatchBody,
        response: { 200: CourseDetailSchema },
      },
      config: { uploads: thumbnail },
      preParsing: requireUser,
      handler: async (request) =>
        courses.update(currentUser(request), request.params.id, request.body, request.uploads?.thumbnail, originOf(request)),
    });
  }

  app.delete('/api/courses/:id/', {
    schema: {
      tags,
      summary: 'Delete a course and its files (its owner while no student is enrolled, admins)',
      security: secured,
      params: CourseIdParams,
      response: { 204: { description: 'Deleted; no body' } },
    },
    preParsing: requireUser,
  }, async (request, reply) => {
    await courses.remove(currentUser(request), request.params.id);
    return reply.code(204).send();
  });
}
