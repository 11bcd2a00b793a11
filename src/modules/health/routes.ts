import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { Type } from 'typebox';
import { named } from '../../shared/openapi.js';
import { redisAnswers } from '../../shared/redis.js';

const Status = Type.Object({ status: Type.String() });
const Check = Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]);
const ReadinessFailure = named(
  'ReadinessFailure',
  Type.Object({
    status: Type.Literal('unavailable'),
    checks: named(
      'ReadinessChecks',
      Type.Object(
        { database: Check, redis: Type.Optional(Check) },
        { description: 'Each dependency: ok or unavailable (redis only when REDIS_URL is set)' },
      ),
    ),
  }),
);

export default async function healthRoutes(app: FastifyInstance, opts: { redis?: Redis | undefined }) {
  const quiet = { rateLimit: false, auth: 'public' } as const;
  const { redis } = opts;

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
      schema: {
        tags: ['operations'],
        summary: 'The database (and Redis, when REDIS_URL is set) answer; 503 naming what does not',
        response: { 200: Status, 503: ReadinessFailure },
      },
      config: quiet,
      logLevel: 'warn',
    },
    async (_request, reply) => {
      const [database, shared] = await Promise.all([
        app.database.ping().then(
          () => true,
          () => false,
        ),
        redis ? redisAnswers(redis) : true,
      ]);
      if (database && shared) return { status: 'ok' };
      const word = (ok: boolean) => (ok ? ('ok' as const) : ('unavailable' as const));
      return reply.code(503).send({
        status: 'unavailable' as const,
        checks: { database: word(database), ...(redis ? { redis: word(shared) } : {}) },
      });
    },
  );
}
