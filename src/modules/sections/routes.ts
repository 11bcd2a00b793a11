import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf, refuseBeforeBody, userContextOf } from '../../plugins/context.js';
import { PageSchema } from '../../shared/pagination.js';
import { CourseDetailSchema } from '../courses/schemas.js';
import {
  CourseIdParams,
  ReorderBody,
  SectionCreateBody,
  SectionIdParams,
  SectionPatchBody,
  SectionQuery,
  SectionReplaceBody,
  SectionSchema,
} from './schemas.js';

const tags = ['sections'];
/** The role gate; ownership of the course is the service's check (a POST names its course in the body). */
const writers = { auth: ['instructor', 'admin'] } as const;
const visibility = "Visible as the course is: a published course's sections to anyone, a draft's to its owner and admins only.";

export default async function sectionRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { sections } = app.services;

  app.get(
    '/api/sections/',
    {
      schema: {
        tags,
        summary: 'Sections of a course, by order',
        description: `${visibility} A course the caller may not see gives an empty page. Without \`course\`: the sections of every course the caller may see, by course and order.`,
        querystring: SectionQuery,
        response: { 200: PageSchema(SectionSchema) },
      },
      config: { auth: 'public' },
    },
    async (request) => sections.list(contextOf(request), request.query),
  );

  app.get(
    '/api/sections/:id/',
    {
      schema: {
        tags,
        summary: 'One section',
        description: `${visibility} Others: 404.`,
        params: SectionIdParams,
        response: { 200: SectionSchema },
      },
      config: { auth: 'public' },
    },
    async (request) => sections.get(contextOf(request), request.params.id),
  );

  app.post(
    '/api/sections/',
    {
      schema: {
        tags,
        summary: "Add a section to one of the caller's courses (its owner, admins)",
        description: '`order` defaults to after the last section; a clashing `order` is a 400.',
        body: SectionCreateBody,
        response: { 201: SectionSchema },
      },
      config: writers,
    },
    async (request, reply) => {
      reply.code(201);
      return sections.create(userContextOf(request), request.body);
    },
  );

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/sections/:id/',
      schema: {
        tags,
        summary: method === 'PUT' ? 'Replace a section (course and title required; the course cannot change)' : 'Update a section',
        description: 'The course cannot change (400); a clashing `order` is a 400.',
        params: SectionIdParams,
        body: method === 'PUT' ? SectionReplaceBody : SectionPatchBody,
        response: { 200: SectionSchema },
      },
      config: writers,
      preParsing: refuseBeforeBody((ctx, id) => sections.checkEditable(ctx, id)),
      handler: async (request) => sections.update(userContextOf(request), request.params.id, request.body),
    });
  }

  app.delete(
    '/api/sections/:id/',
    {
      schema: {
        tags,
        summary: 'Delete a section; its lessons stay in the course with section null',
        params: SectionIdParams,
        response: { 204: { description: 'Deleted; no body' } },
      },
      config: writers,
    },
    async (request, reply) => {
      await sections.remove(userContextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/courses/:id/reorder/',
    {
      schema: {
        tags: ['courses'],
        summary: 'Reorder the lessons (and sections) of a course in one request (its owner, admins)',
        description:
          '`lessons` lists every lesson id of the course exactly once in the new order, `sections` (optional) every section id; ' +
          'they get `order` 1..n atomically. A list that misses, repeats or adds an id is a 400 on that field and nothing changes. ' +
          'A lesson created concurrently lands after the last one, or (if created first) makes a list without it a 400. ' +
          'In a sequential course a new order can lock a lesson a student could read before; media URLs already signed stay valid until they expire (MEDIA_URL_TTL).',
        params: CourseIdParams,
        body: ReorderBody,
        response: { 200: CourseDetailSchema },
      },
      config: writers,
      preParsing: refuseBeforeBody((ctx, id) => sections.checkReorderable(ctx, id)),
    },
    async (request) => sections.reorder(userContextOf(request), request.params.id, request.body),
  );
}
