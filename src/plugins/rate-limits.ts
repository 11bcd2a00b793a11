import { createRequire } from 'node:module';
import { isIPv6 } from 'node:net';
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
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
 * The network a client address stands for when counting requests: an IPv4 address itself
 * (IPv4-mapped IPv6 included), an IPv6 address's /64. One IPv6 subscriber holds a whole
 * /64 and may take a fresh address from it for every request.
 */
export function clientNetwork(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const bare = (ip.split('%')[0] ?? '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped?.[1]) return mapped[1];
  const split = (part: string) => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const [head = '', tail] = bare.split('::');
  const left = split(head);
  const right = tail === undefined ? [] : split(tail);
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

const addressKey = (request: FastifyRequest) => `ip:${clientNetwork(request.ip)}`;

/**
 * Per-route rate for the auth endpoints, keyed by client network. `false` turns the
 * limiter off for the route (the setting was `off`).
 */
export function routeRate(rate: Rate | null) {
  if (!rate) return false as const;
  return {
    max: rate.max,
    timeWindow: rate.windowMs,
    keyGenerator: addressKey,
    // Route settings merge over the global ones: the global allow-list (which waves traffic
    // through when its anon/user rate is off) must not switch this limit off.
    allowList: () => false,
  };
}

/** The account a login names, as one key however it is spelled. */
const accountOf = (request: FastifyRequest): string | null => {
  const name = (request.body as { username?: unknown } | undefined)?.username;
  return typeof name === 'string' ? name.normalize('NFKC').trim().toLowerCase() : null;
};

const LOGIN_ROUTE = { method: 'POST', url: '/api/login/' };

type Counted = (error: Error | null, result?: { current: number; ttl: number }) => void;
/** The store interface @fastify/rate-limit calls (its types leave out `read`, which `{ increment: false }` uses). */
interface Store {
  incr(key: string, done: Counted, timeWindow: number, max: number): void;
  read(key: string, done: Counted, timeWindow: number, max: number): void;
  child(routeOptions: unknown): Store;
}
// The plugin's own stores (CommonJS, untyped): Redis (one Lua script per count) and in-process LRU.
const require = createRequire(import.meta.url);
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: Redis,
  key: string,
) => Store;
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
) => Store;

/**
 * Counters in Redis, shared by every instance; while Redis is unreachable (not connected, or a
 * command failing or timing out) each instance counts in its own memory instead, so limits keep
 * holding (per instance: a client spread over n instances gets up to n times the rate) and no
 * request waits on Redis. The shared counts take over again when it is back.
 */
class FailoverStore implements Store {
  constructor(
    private readonly redis: Redis,
    private readonly shared: Store,
    private readonly local: Store,
  ) {}

  incr(key: string, done: Counted, timeWindow: number, max: number) {
    this.count('incr', key, done, timeWindow, max);
  }

  read(key: string, done: Counted, timeWindow: number, max: number) {
    this.count('read', key, done, timeWindow, max);
  }

  child(routeOptions: unknown): Store {
    return new FailoverStore(this.redis, this.shared.child(routeOptions), this.local.child(routeOptions));
  }

  private count(method: 'incr' | 'read', key: string, done: Counted, timeWindow: number, max: number) {
    if (this.redis.status !== 'ready') return this.local[method](key, done, timeWindow, max);
    this.shared[method](
      key,
      (error, result) => (error ? this.local[method](key, done, timeWindow, max) : done(null, result)),
      timeWindow,
      max,
    );
  }
}

function failoverStore(redis: Redis): FastifyRateLimitStoreCtor {
  return class extends FailoverStore {
    constructor() {
      super(redis, new RedisStore(false, false, redis, 'lp-ratelimit:'), new LocalStore(false, false));
    }
  };
}

/** Anonymous traffic is counted by network, authenticated traffic by user; each has its rate. */
async function rateLimitsPlugin(app: FastifyInstance, opts: { config: Config; redis?: Redis | undefined }) {
  const { anon, user, loginAccount } = opts.config.rateLimits;
  const rateFor = (request: FastifyRequest) => (request.user ? user : anon);
  await app.register(rateLimit, {
    global: anon !== null || user !== null,
    hook: 'onRequest',
    max: (request) => rateFor(request)?.max ?? Number.MAX_SAFE_INTEGER,
    timeWindow: (request) => rateFor(request)?.windowMs ?? 60_000,
    allowList: (request) => rateFor(request) === null,
    keyGenerator: (request) => (request.user ? `user:${request.user.id}` : addressKey(request)),
    ...(opts.redis ? { store: failoverStore(opts.redis) } : {}),
    skipOnError: true,
    errorResponseBuilder: throttled,
  });

  if (!loginAccount) return;
  /**
   * Failed logins per account, from any address (RATE_LIMIT_LOGIN_ACCOUNT): guessing one
   * account's password from many addresses is as slow as from one. Only failures count, so
   * the account's owner logging in as often as they like never trips it.
   */
  const failures = app.createRateLimit({
    max: loginAccount.max,
    timeWindow: loginAccount.windowMs,
    keyGenerator: (request) => `login-account:${accountOf(request) ?? ''}`,
    allowList: (request) => accountOf(request) === null,
    skipOnError: true,
  });
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.url !== LOGIN_ROUTE.url || !methods.includes(LOGIN_ROUTE.method)) return;
    const preHandler = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.preHandler = [
      ...preHandler,
      async (request) => {
        const seen = await failures(request, { increment: false });
        if (!seen.isAllowed && seen.remaining === 0) throw throttled(request, { ttl: seen.ttl });
      },
    ];
    const onResponse = route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse];
    route.onResponse = [
      ...onResponse,
      async (request, reply) => {
        if (reply.statusCode === 401) await failures(request);
      },
    ];
  });
}

export default fp(rateLimitsPlugin, { name: 'rate-limits', dependencies: ['auth'] });
