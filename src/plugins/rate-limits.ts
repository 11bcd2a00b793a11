import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config, Rate } from '../config.js';
import { HttpError } from '../shared/errors.js';

const throttled = (_request: FastifyRequest, context: { ttl: number }) => {
  const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
  return new HttpError(
    429,
    { detail: `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.` },
    'throttled',
    { 'retry-after': String(seconds) },
  );
};

/**
 * Per-route rate for the auth endpoints, keyed by client address. `false` turns the
 * limiter off for the route (the setting was `off`).
 */
export function routeRate(rate: Rate | null) {
  if (!rate) return false as const;
  return {
    max: rate.max,
    timeWindow: rate.windowMs,
    keyGenerator: (request: FastifyRequest) => `ip:${request.ip}`,
    // Route settings merge over the global ones: the global allow-list (which waves traffic
    // through when its anon/user rate is off) must not switch this limit off.
    allowList: () => false,
  };
}

/** Anonymous traffic is counted by address, authenticated traffic by user; each has its rate. */
async function rateLimitsPlugin(app: FastifyInstance, opts: { config: Config; redis?: Redis | undefined }) {
  const { anon, user } = opts.config.rateLimits;
  const rateFor = (request: FastifyRequest) => (request.user ? user : anon);
  await app.register(rateLimit, {
    global: anon !== null || user !== null,
    hook: 'onRequest',
    max: (request) => rateFor(request)?.max ?? Number.MAX_SAFE_INTEGER,
    timeWindow: (request) => rateFor(request)?.windowMs ?? 60_000,
    allowList: (request) => rateFor(request) === null,
    keyGenerator: (request) => (request.user ? `user:${request.user.id}` : `ip:${request.ip}`),
    redis: opts.redis,
    nameSpace: 'lp-ratelimit:',
    skipOnError: true,
    errorResponseBuilder: throttled,
  });
}

export default fp(rateLimitsPlugin, { name: 'rate-limits', dependencies: ['auth'] });
