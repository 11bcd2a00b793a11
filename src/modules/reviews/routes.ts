import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { currentUser, requireUser } from '../../plugins/auth.js';
import { PageSchema } from '../../shared/pagination.js';
import { originOf } from '../../shared/urls.js';
import { ReviewCreateBody, ReviewIdParams, ReviewListQuery, ReviewPatchBody, ReviewPutBody, ReviewSchema } from './schemas.js';

const secured = [{ bearerAuth: [] }];
const tags = ['reviews'];

export default async function reviewRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { reviews } = app.services;

  app.post('/api/reviews/', {
    schema: {
      tags,
      summary: 'Review a course (students enrolled in it; one review per course)',
      security: secured,
      body: ReviewCreateBody,
      response: { 201: ReviewSchema },
    },
    preParsing: requireUser,
  }, async (request, reply) => {
    reply.code(201);
    return reviews.create(currentUser(request), request.body, originOf(request));
  });

  app.get('/api/reviews/', {
    schema: {
      tags,
      summary: 'Reviews of the courses the caller may see (published ones; own drafts for instructors, all for admins), newest first',
      querystring: ReviewListQuery,
      response: { 200: PageSchema(ReviewSchema) },
    },
  }, async (request) => reviews.list(request, request.user, request.query));

  app.get('/api/reviews/:id/', {
    schema: { tags, summary: 'One review', params: ReviewIdParams, response: { 200: ReviewSchema } },
  }, async (request) => reviews.get(request.user, request.params.id, originOf(request)));

  app.put('/api/reviews/:id/', {
    schema: {
      tags,
      summary: 'Replace the rating and comment (the author only)',
      security: secured,
      params: ReviewIdParams,
      body: ReviewPutBody,
      response: { 200: ReviewSchema },
    },
    preParsing: requireUser,
  }, async (request) => reviews.change(currentUser(request), request.params.id, request.body, originOf(request)));

  app.patch('/api/reviews/:id/', {
    schema: {
      tags,
      summary: 'Change the rating or comment (the author only)',
      security: secured,
      params: ReviewIdParams,
      body: ReviewPatchBody,
      response: { 200: ReviewSchema },
    },
    preParsing: requireUser,
  }, async (request) => reviews.change(currentUser(request), request.params.id, request.body, originOf(request)));

  app.delete('/api/reviews/:id/', {
    schema: {
      tags,
      summary: 'Delete a review (the author or an admin)',
      security: secured,
      params: ReviewIdParams,
      response: { 204: { description: 'Deleted; no body' } },
    },
    preParsing: requireUser,
  }, async (request, reply) => {
    await reviews.remove(currentUser(request), request.params.id);
    return reply.code(204).send();
  });
}
