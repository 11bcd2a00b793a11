import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { currentUser, requireUser } from '../../plugins/auth.js';
import { routeRate } from '../../plugins/rate-limits.js';
import { originOf } from '../../shared/urls.js';
import { RegisterBody, UserSchema } from '../users/schemas.js';
import { LoginBody, RefreshBody, TokenPairSchema } from './schemas.js';

const tags = ['auth'];
const secured = [{ bearerAuth: [] }];

export default async function authRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { auth, users } = app.services;
  const rates = app.config.rateLimits;

  app.post('/api/register/', {
    schema: { tags, summary: 'Create a student or instructor account', body: RegisterBody, response: { 201: UserSchema } },
    config: { rateLimit: routeRate(rates.register) },
  }, async (request, reply) => {
    reply.code(201);
    return users.register(request.body, originOf(request));
  });

  app.post('/api/login/', {
    schema: { tags, summary: 'Obtain an access and a refresh token', body: LoginBody, response: { 200: TokenPairSchema } },
    config: { rateLimit: routeRate(rates.login) },
  }, async (request) => {
    const user = await users.checkCredentials(request.body.username, request.body.password);
    return auth.startSession(user);
  });

  app.post('/api/token/refresh/', {
    schema: {
      tags,
      summary: 'Rotate a refresh token',
      description: 'The presented refresh token dies. Presenting a rotated token again revokes its whole session.',
      body: RefreshBody,
      response: { 200: TokenPairSchema },
    },
    config: { rateLimit: routeRate(rates.refresh) },
  }, async (request) => auth.refresh(request.body.refresh));

  app.post('/api/logout/', {
    schema: {
      tags,
      summary: 'Revoke this session: its refresh token and every access token issued in it',
      security: secured,
      body: RefreshBody,
      response: { 205: { description: 'Session revoked; no body' } },
    },
    preParsing: requireUser,
  }, async (request, reply) => {
    await auth.logout(currentUser(request), request.body.refresh);
    return reply.code(205).send();
  });

  app.post('/api/logout-all/', {
    schema: { tags, summary: 'Revoke every session of the caller', security: secured, response: { 205: { description: 'All sessions revoked; no body' } } },
    preParsing: requireUser,
  }, async (request, reply) => {
    await auth.revokeAllSessions(currentUser(request).id);
    return reply.code(205).send();
  });
}
