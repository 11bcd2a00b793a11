import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf, refuseBeforeBody, userContextOf } from '../../plugins/context.js';
import { PageSchema } from '../../shared/pagination.js';
import { LessonCreateBody, LessonIdParams, LessonPatchBody, LessonQuery, LessonReplaceBody, LessonSchema } from './schemas.js';

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
const writers = { auth: ['instructor', 'admin'], uploads: files } as const;
const readAccess =
  'Readable in full by the owner of the course, admins, students enrolled in it, and anyone for a preview lesson of a published course.';

export default async function lessonRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { lessons } = app.services;

  app.get(
    '/api/lessons/',
    {
      schema: {
        tags,
        summary: 'Lessons the caller may read in full, by course and order',
        description: `${readAccess} With \`course\`: that course's lessons the caller may read (for anyone else its preview lessons, if published).`,
        querystring: LessonQuery,
        response: { 200: PageSchema(LessonSchema) },
      },
      config: { auth: 'public' },
    },
    async (request) => lessons.list(contextOf(request), request.query),
  );

  app.get(
    '/api/lessons/:id/',
    {
      schema: {
        tags,
        summary: 'One lesson',
        description: `${readAccess} Others: 401 anonymous, 403 authenticated; a lesson of someone else's draft: 404.`,
        params: LessonIdParams,
        response: { 200: LessonSchema },
      },
      config: { auth: 'public' },
    },
    async (request) => lessons.get(contextOf(request), request.params.id),
  );

  app.post(
    '/api/lessons/',
    {
      schema: {
        tags,
        summary: "Add a lesson to one of the caller's courses",
        body: LessonCreateBody,
        response: { 201: LessonSchema },
      },
      config: writers,
    },
    async (request, reply) => {
      reply.code(201);
      return lessons.create(userContextOf(request), request.body, request.uploads ?? {});
    },
  );

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/lessons/:id/',
      schema: {
        tags,
        summary: method === 'PUT' ? 'Replace a lesson (course and title required; the course cannot change)' : 'Update a lesson',
        params: LessonIdParams,
        body: method === 'PUT' ? LessonReplaceBody : LessonPatchBody,
        response: { 200: LessonSchema },
      },
      config: writers,
      // The lesson is in the path: whose it is is known before a byte of the body (an
      // upload of up to 2 GiB) is read, so a caller who may not change it is refused first.
      preParsing: refuseBeforeBody((ctx, id) => lessons.checkEditable(ctx, id)),
      handler: async (request) => lessons.update(userContextOf(request), request.params.id, request.body, request.uploads ?? {}),
    });
  }

  app.delete(
    '/api/lessons/:id/',
    {
      schema: {
        tags,
        summary: 'Delete a lesson: its files go, enrolled students\u2019 progress is recomputed',
        params: LessonIdParams,
        response: { 204: { description: 'Deleted; no body' } },
      },
      config: { auth: ['instructor', 'admin'] },
    },
    async (request, reply) => {
      await lessons.remove(userContextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );
}
