import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf } from '../../plugins/context.js';
import { PageSchema } from '../../shared/pagination.js';
import { CategoryCreateBody, CategoryIdParams, CategoryListQuery, CategoryPatchBody, CategorySchema } from './schemas.js';

const tags = ['categories'];
const admins = { auth: ['admin'] } as const;

export default async function categoryRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { categories } = app.services;

  app.get(
    '/api/categories/',
    {
      schema: { tags, summary: 'Categories, by name', querystring: CategoryListQuery, response: { 200: PageSchema(CategorySchema) } },
      config: { auth: 'public' },
    },
    async (request) => categories.list(contextOf(request), request.query),
  );

  app.get(
    '/api/categories/:id/',
    {
      schema: { tags, summary: 'One category', params: CategoryIdParams, response: { 200: CategorySchema } },
      config: { auth: 'public' },
    },
    async (request) => categories.get(contextOf(request), request.params.id),
  );

  app.post(
    '/api/categories/',
    {
      schema: { tags, summary: 'Create a category (admins)', body: CategoryCreateBody, response: { 201: CategorySchema } },
      config: admins,
    },
    async (request, reply) => {
      reply.code(201);
      return categories.create(contextOf(request), request.body);
    },
  );

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/categories/:id/',
      schema: {
        tags,
        summary: method === 'PUT' ? 'Replace a category (admins)' : 'Update a category (admins)',
        params: CategoryIdParams,
        body: method === 'PUT' ? CategoryCreateBody : CategoryPatchBody,
        response: { 200: CategorySchema },
      },
      config: admins,
      handler: async (request) => categories.update(contextOf(request), request.params.id, request.body),
    });
  }

  app.delete(
    '/api/categories/:id/',
    {
      schema: {
        tags,
        summary: 'Delete a category without courses (admins)',
        params: CategoryIdParams,
        response: { 204: { description: 'Deleted; no body' } },
      },
      config: admins,
    },
    async (request, reply) => {
      await categories.remove(contextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );
}
