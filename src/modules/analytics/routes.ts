import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf, userContextOf } from '../../plugins/context.js';
import { AnalyticsQuery, CourseAnalyticsParams, CourseAnalyticsSchema, InstructorSummarySchema } from './schemas.js';

const tags = ['analytics'];

export default async function analyticsRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { analytics } = app.services;

  app.get(
    '/api/courses/:id/analytics/',
    {
      schema: {
        tags,
        summary: "A course's enrollments, completions, where students stop, ratings and quizzes (the owner and admins)",
        params: CourseAnalyticsParams,
        querystring: AnalyticsQuery,
        response: { 200: CourseAnalyticsSchema },
      },
      config: { auth: 'user' },
    },
    async (request) => analytics.course(userContextOf(request), request.params.id, request.query),
  );

  app.get(
    '/api/instructor/summary/',
    {
      schema: {
        tags,
        summary: "Totals over the caller's courses (instructors) or every course (admins)",
        querystring: AnalyticsQuery,
        response: { 200: InstructorSummarySchema },
      },
      config: { auth: ['instructor', 'admin'] },
    },
    async (request) => analytics.summary(contextOf(request), request.query),
  );
}
