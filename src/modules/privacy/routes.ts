import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { userContextOf } from '../../plugins/context.js';
import { DataExportSchema, EraseBody } from './schemas.js';

const tags = ['profile'];

export default async function privacyRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { privacy } = app.services;

  app.get(
    '/api/profile/export/',
    {
      schema: {
        tags,
        summary: 'Everything kept about the caller, in one JSON document',
        response: { 200: DataExportSchema },
      },
      config: { auth: 'user' },
    },
    async (request) => privacy.exportData(userContextOf(request)),
  );

  app.delete(
    '/api/profile/',
    {
      schema: {
        tags,
        summary: "Erase the caller's account",
        description:
          'Every session dies; the account is anonymised (username `deleted-<id>`), its enrollments and certificates removed; reviews stay under the anonymised user. An instructor who still owns courses: 409.',
        body: EraseBody,
        response: { 204: { description: 'Erased; no body' } },
      },
      config: { auth: 'user' },
    },
    async (request, reply) => {
      await privacy.erase(userContextOf(request), request.body.password);
      return reply.code(204).send();
    },
  );
}
