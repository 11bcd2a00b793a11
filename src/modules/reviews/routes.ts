import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf, userContextOf } from '../../plugins/context.js';
import { PageSchema } from '../../shared/pagination.js';
import { ReviewCreateBody, ReviewIdParams, ReviewListQuery, ReviewPatchBody, ReviewPutBody, ReviewSchema } from './schemas.js';

const tags = ['reviews'];
const signedIn = { auth: 'user' } as const;

export default async function reviewRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { reviews } = app.services;

  app.post('/api/reviews/', {
    schema: {
      tags,
      summary: 'Review a course (students enrolled in it; one review per course)',
      body: ReviewCreateBody,
      response: { 201: ReviewSchema },
    },
    config: signedIn,
  }, async (request, reply) => {
    reply.code(201);
    return reviews.create(userContextOf(request), request.body);
  });

  app.get('/api/reviews/', {
    schema: {
      tags,
      summary: 'Reviews of the courses the caller may see (published ones; own drafts for instructors, all for admins), newest first',
      querystring: ReviewListQuery,
      response: { 200: PageSchema(ReviewSchema) },
    },
    config: { auth: 'public' },
  }, async (request) => reviews.list(contextOf(request), request.query));

  app.get('/api/reviews/:id/', {
    schema: { tags, summary: 'One review', params: ReviewIdParams, response: { 200: ReviewSchema } },
    config: { auth: 'public' },
  }, async (request) => reviews.get(contextOf(request), request.params.id));

  app.put('/api/reviews/:id/', {
    schema: {
      tags,
      summary: 'Replace the rating and comment (the author only)',
      params: ReviewIdParams,
      body: ReviewPutBody,
      response: { 200: ReviewSchema },
    },
    config: signedIn,
  }, async (request) => reviews.change(userContextOf(request), request.params.id, request.body));

  app.patch('/api/reviews/:id/', {
    schema: {
      tags,
      summary: 'Change the rating or comment (the author only)',
      params: ReviewIdParams,
      body: ReviewPatchBody,
      response: { 200: ReviewSchema },
    },
    config: signedIn,
  }, async (request) => reviews.change(userContextOf(request), request.params.id, request.body));

  app.delete('/api/reviews/:id/', {
    schema: {
      tags,
      summary: 'Delete a review (the author or an admin)',
      params: ReviewIdParams,
      response: { 204: { description: 'Deleted; no body' } },
    },
    config: signedIn,
  }, async (request, reply) => {
    await reviews.remove(userContextOf(request), request.params.id);
    return reply.code(204).send();
  });
}
