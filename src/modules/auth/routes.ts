import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf, userContextOf } from '../../plugins/context.js';
import { routeRate } from '../../plugins/rate-limits.js';
import { RegisterBody, UserSchema } from '../users/schemas.js';
import { LoginBody, RefreshBody, TokenPairSchema } from './schemas.js';

const tags = ['auth'];

export default async function authRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { auth, users } = app.services;
  const rates = app.config.rateLimits;

  app.post(
    '/api/register/',
    {
      schema: { tags, summary: 'Create a student or instructor account', body: RegisterBody, response: { 201: UserSchema } },
      config: { auth: 'public', rateLimit: routeRate(rates.register) },
    },
    async (request, reply) => {
      reply.code(201);
      return users.register(contextOf(request), request.body);
    },
  );

  app.post(
    '/api/login/',
    {
      schema: { tags, summary: 'Obtain an access and a refresh token', body: LoginBody, response: { 200: TokenPairSchema } },
      config: { auth: 'public', rateLimit: routeRate(rates.login) },
    },
    async (request) => auth.login(contextOf(request), request.body.username, request.body.password),
  );

  app.post(
    '/api/token/refresh/',
    {
      schema: {
        tags,
        summary: 'Rotate a refresh token',
        description: 'The presented refresh token dies. Presenting a rotated token again revokes its whole session.',
        body: RefreshBody,
        response: { 200: TokenPairSchema },
      },
      config: { auth: 'public', rateLimit: routeRate(rates.refresh) },
    },
    async (request) => auth.refresh(contextOf(request), request.body.refresh),
  );

  app.post(
    '/api/logout/',
    {
      schema: {
        tags,
        summary: 'Revoke this session: its refresh token and every access token issued in it',
        body: RefreshBody,
        response: { 205: { description: 'Session revoked; no body' } },
      },
      config: { auth: 'user' },
    },
    async (request, reply) => {
      await auth.logout(userContextOf(request), request.body.refresh);
      return reply.code(205).send();
    },
  );

  app.post(
    '/api/logout-all/',
    {
      schema: { tags, summary: 'Revoke every session of the caller', response: { 205: { description: 'All sessions revoked; no body' } } },
      config: { auth: 'user' },
    },
    async (request, reply) => {
      await auth.logoutEverywhere(userContextOf(request));
      return reply.code(205).send();
    },
  );
}
