import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf, refuseBeforeBody, userContextOf } from '../../plugins/context.js';
import { validationBody } from '../../plugins/errors.js';
import { notFound } from '../../shared/errors.js';
import { PageSchema } from '../../shared/pagination.js';
import { invalidNested } from './service.js';
import type { NestedErrors } from './service.js';
import {
  AttemptsQuery,
  LessonIdParams,
  QuizAttemptRequestSchema,
  QuizAttemptSchema,
  QuizAuthorSchema,
  QuizRequestSchema,
  QuizViewSchema,
} from './schemas.js';

const tags = ['quizzes'];

/**
 * Schema errors of a body with a list of objects, keyed by the item's index the way the
 * service reports its own checks: `{"questions": {"2": {"points": ["..."]}}}`. Errors
 * elsewhere in the body keep the usual flat shape; a bad path parameter is a 404.
 */
function rejectInvalid(request: FastifyRequest, list: 'questions' | 'answers'): void {
  const error = request.validationError as
    | (Error & { validation?: FastifySchemaValidationError[]; validationContext?: string })
    | undefined;
  if (!error) return;
  if (error.validationContext !== 'body' || !error.validation) throw notFound();
  const flat: FastifySchemaValidationError[] = [];
  const byIndex = new Map<string, FastifySchemaValidationError[]>();
  const itemPath = new RegExp(`^/${list}/(\\d+)(/.*)?$`);
  for (const e of error.validation) {
    const match = itemPath.exec(e.instancePath);
    if (!match?.[1]) {
      flat.push(e);
      continue;
    }
    const errors = byIndex.get(match[1]) ?? [];
    errors.push({ ...e, instancePath: match[2] ?? '' });
    byIndex.set(match[1], errors);
  }
  const body: NestedErrors = flat.length > 0 ? validationBody(flat) : {};
  // A problem with the list itself (missing, too long) says it all; otherwise name the items.
  if (byIndex.size > 0 && !body[list]) {
    body[list] = Object.fromEntries([...byIndex].map(([index, errors]) => [index, validationBody(errors)]));
  }
  throw invalidNested(body);
}

export default async function quizRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { quizzes } = app.services;

  app.get(
    '/api/lessons/:id/quiz/',
    {
      schema: {
        tags,
        summary:
          "A lesson's quiz: the author view (QuizAuthor) for the course's owner and admins, the student view (QuizStudent, nothing that says what is correct) for others who may read the lesson in full; no quiz 404",
        params: LessonIdParams,
        response: { 200: QuizViewSchema },
      },
      config: { auth: 'public' },
    },
    async (request) => quizzes.get(contextOf(request), request.params.id),
  );

  app.put(
    '/api/lessons/:id/quiz/',
    {
      schema: {
        tags,
        summary:
          'Create or replace the quiz of a lesson, whole and atomically (the course owner, admins). Errors of a question are keyed by its index.',
        params: LessonIdParams,
        body: QuizRequestSchema,
        response: { 200: QuizAuthorSchema },
      },
      attachValidation: true,
      config: { auth: 'user' },
      preParsing: refuseBeforeBody((ctx, id) => quizzes.checkEditable(ctx, id)),
    },
    async (request) => {
      rejectInvalid(request, 'questions');
      return quizzes.put(userContextOf(request), request.params.id, request.body);
    },
  );

  app.delete(
    '/api/lessons/:id/quiz/',
    {
      schema: {
        tags,
        summary: 'Delete the quiz of a lesson and its attempts (the course owner, admins)',
        params: LessonIdParams,
        response: { 204: { description: 'Deleted; no body' } },
      },
      config: { auth: 'user' },
    },
    async (request, reply) => {
      await quizzes.remove(userContextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/lessons/:id/quiz/attempts/',
    {
      schema: {
        tags,
        summary:
          'Submit an attempt (enrolled students who may read the lesson); graded at once; no attempts left 409. A passing attempt completes the lesson.',
        params: LessonIdParams,
        body: QuizAttemptRequestSchema,
        response: { 201: QuizAttemptSchema },
      },
      attachValidation: true,
      config: { auth: ['student'] },
    },
    async (request, reply) => {
      rejectInvalid(request, 'answers');
      reply.code(201);
      return quizzes.attempt(userContextOf(request), request.params.id, request.body);
    },
  );

  app.get(
    '/api/lessons/:id/quiz/attempts/',
    {
      schema: {
        tags,
        summary: "Attempts, newest first: a student's own; the owner and admins see everyone's (filter `student`)",
        params: LessonIdParams,
        querystring: AttemptsQuery,
        response: { 200: PageSchema(QuizAttemptSchema) },
      },
      config: { auth: 'user' },
    },
    async (request) => quizzes.attempts(userContextOf(request), request.params.id, request.query),
  );
}
