import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

const Status = Type.Object({ status: Type.String() });

export default async function healthRoutes(app: FastifyInstance) {
  const quiet = { rateLimit: false, auth: 'public' } as const;

  app.get(
    '/health',
    {
      schema: { tags: ['operations'], summary: 'The process is up', response: { 200: Status } },
      config: quiet,
      logLevel: 'warn',
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/ready',
    {
      schema: { tags: ['operations'], summary: 'The database answers (503 when it does not)', response: { 200: Status, 503: Status } },
      config: quiet,
      logLevel: 'warn',
    },
    async (_request, reply) => {
      try {
        await app.database.ping();
        return { status: 'ok' };
      } catch {
        return reply.code(503).send({ status: 'unavailable' });
      }
    },
  );
}
