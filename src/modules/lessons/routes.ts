import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { currentUser, requireRole } from '../../plugins/auth.js';
import { PageSchema } from '../../shared/pagination.js';
import { originOf } from '../../shared/urls.js';
import { LessonCreateBody, LessonIdParams, LessonPatchBody, LessonQuery, LessonReplaceBody, LessonSchema } from './schemas.js';

const secured = [{ bearerAuth: [] }];
const files = {
  video: { kind: 'video', folder: 'videos' },
  attachment: { kind: 'pdf', folder: 'attachments' },
} as const;
const tags = ['lessons'];
/**
 * The role gate runs on request, before the body: a caller who may never write a lesson is
 * refused before a byte of their upload reaches storage. Ownership of the course is the
 * service's check, after the body (a POST names its course inside it).
 */
const writers = requireRole('instructor', 'admin');
const readAccess =
  'Readable in full by the owner of the course, admins, students enrolled in it, and anyone for a preview lesson of a published course.';

export default async function lessonRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { lessons } = app.services;

  app.get('/api/lessons/', {
    schema: {
      tags,
      summary: 'Lessons the caller may read in full, by course and order',
      description: `${readAccess} With \`course\`: that course's lessons the caller may read (for anyone else its preview lessons, if published).`,
      querystring: LessonQuery,
      response: { 200: PageSchema(LessonSchema) },
    },
  }, async (request) => lessons.list(request.user, request.query, request));

  app.get('/api/lessons/:id/', {
    schema: {
      tags,
      summary: 'One lesson',
      description: `${readAccess} Others: 401 anonymous, 403 authenticated; a lesson of someone else's draft: 404.`,
      params: LessonIdParams,
      response: { 200: LessonSchema },
    },
  }, async (request) => lessons.get(request.user, request.params.id, originOf(request)));

  app.post('/api/lessons/', {
    schema: {
      tags,
      summary: "Add a lesson to one of the caller's courses",
      security: secured,
      body: LessonCreateBody,
      response: { 201: LessonSchema },
    },
    config: { uploads: files },
    preParsing: writers,
  }, async (request, reply) => {
    reply.code(201);
    return lessons.create(currentUser(request), request.body, request.uploads ?? {}, originOf(request));
  });

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/lessons/:id/',
      schema: {
        tags,
        summary: method === 'PUT' ? 'Replace a lesson (course and title required; the course cannot change)' : 'Update a lesson',
        security: secured,
        params: LessonIdParams,
        body: method === 'PUT' ? LessonReplaceBody : LessonPatchBody,
        response: { 200: LessonSchema },
      },
      config: { uploads: files },
      preParsing: writers,
      handler: async (request) =>
        lessons.update(currentUser(request), request.params.id, request.body, request.uploads ?? {}, originOf(request)),
    });
  }

  app.delete('/api/lessons/:id/', {
    schema: {
      tags,
      summary: 'Delete a lesson: its files go, enrolled students\u2019 progress is recomputed',
      security: secured,
      params: LessonIdParams,
      response: { 204: { description: 'Deleted; no body' } },
    },
    preParsing: writers,
  }, async (request, reply) => {
    await lessons.remove(currentUser(request), request.params.id);
    return reply.code(204).send();
  });
}
