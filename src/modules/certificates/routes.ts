import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf, userContextOf } from '../../plugins/context.js';
import { PageSchema } from '../../shared/pagination.js';
import { CertificateSchema, CodeParams, PageOnlyQuery } from './schemas.js';

const tags = ['certificates'];

export default async function certificateRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { certificates } = app.services;

  app.get(
    '/api/my-certificates/',
    {
      schema: {
        tags,
        summary: "The caller's certificates, newest first (students)",
        querystring: PageOnlyQuery,
        response: { 200: PageSchema(CertificateSchema) },
      },
      config: { auth: ['student'] },
    },
    async (request) => certificates.mine(userContextOf(request), request.query),
  );

  app.get(
    '/api/certificates/:code/',
    {
      schema: {
        tags,
        summary: 'Verify a certificate by its code (anyone); unknown code 404',
        params: CodeParams,
        response: { 200: CertificateSchema },
      },
      config: { auth: 'public' },
    },
    async (request) => certificates.verify(contextOf(request), request.params.code),
  );

  app.get(
    '/api/certificates/:code/pdf/',
    {
      schema: {
        tags,
        summary: 'The certificate as a one-page PDF (anyone); ETag, If-None-Match → 304; a revoked one says REVOKED',
        params: CodeParams,
        response: {
          200: { description: 'application/pdf', content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } } },
          304: { description: 'Not modified; no body' },
        },
      },
      config: { auth: 'public' },
    },
    async (request, reply) => {
      const { etag, body } = await certificates.pdf(contextOf(request), request.params.code, request.headers['if-none-match']);
      // Revalidate every time: a revocation must show on the next look.
      reply.header('etag', etag).header('cache-control', 'no-cache');
      if (body === null) return reply.code(304).send();
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename="certificate-${request.params.code.replace(/[^A-Za-z0-9]/g, '')}.pdf"`)
        .send(body);
    },
  );

  app.post(
    '/api/certificates/:code/revoke/',
    {
      schema: {
        tags,
        summary: 'Revoke a certificate (admins); 200 with revoked_at set; a second revocation keeps the first time',
        params: CodeParams,
        response: { 200: CertificateSchema },
      },
      config: { auth: ['admin'] },
    },
    async (request) => certificates.revoke(userContextOf(request), request.params.code),
  );
}
