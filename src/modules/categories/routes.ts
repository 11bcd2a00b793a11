import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireRole } from '../../plugins/auth.js';
import { PageSchema } from '../../shared/pagination.js';
import { CategoryCreateBody, CategoryIdParams, CategoryListQuery, CategoryPatchBody, CategorySchema } from './schemas.js';

const tags = ['categories'];
const secured = [{ bearerAuth: [] }];

export default async function categoryRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { categories } = app.services;
  const adminOnly = requireRole('admin');

  app.get('/api/categories/', {
    schema: { tags, summary: 'Categories, by name', querystring: CategoryListQuery, response: { 200: PageSchema(CategorySchema) } },
  }, async (request) => categories.list(request, request.query));

  app.get('/api/categories/:id/', {
    schema: { tags, summary: 'One category', params: CategoryIdParams, response: { 200: CategorySchema } },
  }, async (request) => categories.get(request.params.id));

  app.post('/api/categories/', {
    schema: { tags, summary: 'Create a category (admins)', security: secured, body: CategoryCreateBody, response: { 201: CategorySchema } },
    preParsing: adminOnly,
  }, async (request, reply) => {
    reply.code(201);
    return categories.create(request.body);
  });

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/categories/:id/',
      schema: {
        tags,
        summary: method === 'PUT' ? 'Replace a category (admins)' : 'Update a category (admins)',
        security: secured,
        params: CategoryIdParams,
        body: method === 'PUT' ? CategoryCreateBody : CategoryPatchBody,
        response: { 200: CategorySchema },
      },
      preParsing: adminOnly,
      handler: async (request) => categories.update(request.params.id, request.body),
    });
  }

  app.delete('/api/categories/:id/', {
    schema: { tags, summary: 'Delete a category without courses (admins)', security: secured, params: CategoryIdParams, response: { 204: { description: 'Deleted; no body' } } },
    preParsing: adminOnly,
  }, async (request, reply) => {
    await categories.remove(request.params.id);
    return reply.code(204).send();
  });
}
