import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf } from '../../plugins/context.js';
import { AuditEntryPage, AuditQuery } from './schemas.js';

export default async function auditRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { audit } = app.services;

  app.get(
    '/api/admin/audit/',
    {
      schema: {
        tags: ['admin'],
        summary: 'The audit log of admin and security actions, newest first (admins)',
        querystring: AuditQuery,
        response: { 200: AuditEntryPage },
      },
      config: { auth: ['admin'] },
    },
    async (request) => audit.list(contextOf(request), request.query),
  );
}
