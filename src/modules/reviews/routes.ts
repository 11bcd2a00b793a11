import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf, refuseBeforeBody, userContextOf } from '../../plugins/context.js';
import { PageSchema } from '../../shared/pagination.js';
import {
  ReviewCreateBody,
  ReviewIdParams,
  ReviewListQuery,
  ReviewPatchBody,
  ReviewPutBody,
  ReviewReplyRequest,
  ReviewReportListQuery,
  ReviewReportRequest,
  ReviewReportSchema,
  ReviewSchema,
} from './schemas.js';

const tags = ['reviews'];
const signedIn = { auth: 'user' } as const;
const admins = { auth: ['admin'] } as const;

export default async function reviewRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { reviews } = app.services;

  app.post(
    '/api/reviews/',
    {
      schema: {
        tags,
        summary: 'Review a course (students enrolled in it; one review per course)',
        body: ReviewCreateBody,
        response: { 201: ReviewSchema },
      },
      config: signedIn,
    },
    async (request, reply) => {
      reply.code(201);
      return reviews.create(userContextOf(request), request.body);
    },
  );

  app.get(
    '/api/reviews/',
    {
      schema: {
        tags,
        summary: 'Reviews of the courses the caller may see (published ones; own drafts for instructors, all for admins), newest first',
        querystring: ReviewListQuery,
        response: { 200: PageSchema(ReviewSchema) },
      },
      config: { auth: 'public' },
    },
    async (request) => reviews.list(contextOf(request), request.query),
  );

  app.get(
    '/api/reviews/:id/',
    {
      schema: { tags, summary: 'One review', params: ReviewIdParams, response: { 200: ReviewSchema } },
      config: { auth: 'public' },
    },
    async (request) => reviews.get(contextOf(request), request.params.id),
  );

  app.put(
    '/api/reviews/:id/',
    {
      schema: {
        tags,
        summary: 'Replace the rating and comment (the author only)',
        params: ReviewIdParams,
        body: ReviewPutBody,
        response: { 200: ReviewSchema },
      },
      config: signedIn,
      preParsing: refuseBeforeBody((ctx, id) => reviews.checkChange(ctx, id)),
    },
    async (request) => reviews.change(userContextOf(request), request.params.id, request.body),
  );

  app.patch(
    '/api/reviews/:id/',
    {
      schema: {
        tags,
        summary: 'Change the rating or comment (the author only)',
        params: ReviewIdParams,
        body: ReviewPatchBody,
        response: { 200: ReviewSchema },
      },
      config: signedIn,
      preParsing: refuseBeforeBody((ctx, id) => reviews.checkChange(ctx, id)),
    },
    async (request) => reviews.change(userContextOf(request), request.params.id, request.body),
  );

  app.delete(
    '/api/reviews/:id/',
    {
      schema: {
        tags,
        summary: 'Delete a review (the author or an admin)',
        params: ReviewIdParams,
        response: { 204: { description: 'Deleted; no body' } },
      },
      config: signedIn,
    },
    async (request, reply) => {
      await reviews.remove(userContextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.put(
    '/api/reviews/:id/reply/',
    {
      schema: {
        tags,
        summary: "Reply to a review, or replace the reply (the course's instructor only); the reply keeps its created_at",
        params: ReviewIdParams,
        body: ReviewReplyRequest,
        response: { 200: ReviewSchema },
      },
      config: signedIn,
      preParsing: refuseBeforeBody((ctx, id) => reviews.checkReply(ctx, id)),
    },
    async (request) => reviews.reply(userContextOf(request), request.params.id, request.body),
  );

  app.delete(
    '/api/reviews/:id/reply/',
    {
      schema: {
        tags,
        summary: "Delete the reply (the course's instructor or an admin)",
        params: ReviewIdParams,
        response: { 204: { description: 'Deleted; no body' } },
      },
      config: signedIn,
    },
    async (request, reply) => {
      await reviews.removeReply(userContextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/reviews/:id/report/',
    {
      schema: {
        tags,
        summary: 'Report a review to the admins (anyone signed in but its author); reporting it again changes nothing',
        params: ReviewIdParams,
        body: ReviewReportRequest,
        response: { 202: ReviewReportSchema },
      },
      config: signedIn,
      preParsing: refuseBeforeBody((ctx, id) => reviews.checkReport(ctx, id)),
    },
    async (request, reply) => {
      reply.code(202);
      return reviews.report(userContextOf(request), request.params.id, request.body);
    },
  );

  app.get(
    '/api/admin/reports/',
    {
      schema: {
        tags: ['admin'],
        summary: 'Reports of reviews, newest first (admins)',
        querystring: ReviewReportListQuery,
        response: { 200: PageSchema(ReviewReportSchema) },
      },
      config: admins,
    },
    async (request) => reviews.listReports(contextOf(request), request.query),
  );

  app.post(
    '/api/admin/reviews/:id/hide/',
    {
      schema: {
        tags: ['admin'],
        summary: "Hide a review (admins): out of public lists and the course's rating at once; its reports are resolved",
        params: ReviewIdParams,
        response: { 200: ReviewSchema },
      },
      config: admins,
    },
    async (request) => reviews.hide(userContextOf(request), request.params.id),
  );

  app.post(
    '/api/admin/reviews/:id/unhide/',
    {
      schema: {
        tags: ['admin'],
        summary: 'Show a hidden review again (admins)',
        params: ReviewIdParams,
        response: { 200: ReviewSchema },
      },
      config: admins,
    },
    async (request) => reviews.unhide(userContextOf(request), request.params.id),
  );
}
