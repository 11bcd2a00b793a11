import { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';

/** The longest a Redis command may take before its caller gives up on it (and falls back, or reports it). */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;

/**
 * The instance's Redis client. It reconnects on its own for as long as it takes (ioredis'
 * backoff, at most 2 s between attempts); a command waits at most REDIS_COMMAND_TIMEOUT_MS, and
 * callers look at `status` first, so no request waits on a Redis that is away. Losing the
 * connection and getting it back are logged once each.
 */
export function connectRedis(url: string, log: FastifyBaseLogger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, commandTimeout: REDIS_COMMAND_TIMEOUT_MS });
  let up = false;
  let reported = false;
  redis.on('ready', () => {
    if (reported) log.info('Redis is reachable again: revocations and rate counters are shared again');
    up = true;
    reported = false;
  });
  redis.on('close', () => {
    up = false;
  });
  // Every failed reconnection is an error event: one line per outage is enough.
  redis.on('error', (err: Error) => {
    if (up || reported) return;
    reported = true;
    log.error({ err }, 'Redis is unreachable: rate limits count per instance and tokens are checked against the database until it is back');
  });
  return redis;
}

/** Whether Redis answers a PING now (within the command timeout). */
export async function redisAnswers(redis: Redis): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  try {
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  }
}
