import type { Redis } from 'ioredis';

/**
 * Which sessions were revoked recently enough that their access tokens could still be alive.
 *
 * Checking a token costs one Map lookup: no database round trip for the common, unrevoked
 * case. An entry is only needed for one access-token lifetime after revocation (an older
 * access token has expired anyway; refresh tokens are always checked against the database).
 * With Redis, revocations are published so every instance learns of them at once; at start
 * an instance loads the recent revocations from the database, which every instance shares.
 *
 * While this instance does not hear the others (its Redis subscription is down), `complete`
 * is false and callers must ask the database (fail closed); when the subscription is back,
 * what was revoked meanwhile is reloaded from the database before `complete` is true again.
 */
export interface RevocationList {
  isRevoked(sessionId: string): boolean;
  /** True when every revocation made anywhere is known here: always without Redis; with it, while subscribed. */
  readonly complete: boolean;
  /** Known here at once; published to the other instances (again when Redis is back, if it is away). Never throws. */
  revoke(sessionIds: string[]): Promise<void>;
  /** Entries that must be known at start: sessions revoked within one access-token lifetime. */
  preload(sessionIds: string[]): void;
  /** Resolves once this instance listens for other instances' revocations (at once without Redis). */
  listening: Promise<void>;
  close(): Promise<void>;
}

const CHANNEL = 'lp:session-revocations';
const RELOAD_RETRY_MS = 1000;

export interface RevocationOptions {
  accessTokenTtl: number;
  redis?: Redis | undefined;
  /** The sessions revoked within one access-token lifetime, from the database: read again after a Redis outage. */
  reload?: () => Promise<string[]>;
  /** Told when a publication or a reload fails (the list keeps working). */
  warn?: (error: unknown, message: string) => void;
}

export function createRevocationList(options: RevocationOptions): RevocationList {
  const keepMs = (options.accessTokenTtl + 60) * 1000;
  const revoked = new Map<string, number>();
  const remember = (ids: string[]) => {
    const until = Date.now() + keepMs;
    for (const id of ids) revoked.set(id, until);
  };
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, until] of revoked) if (until < now) revoked.delete(id);
  }, 60_000);
  sweep.unref();
  const warn = options.warn ?? (() => {});

  const redis = options.redis;
  let subscriber: Redis | undefined;
  let listening = Promise.resolve();
  let complete = !redis;
  let closed = false;
  /** Bumped whenever the subscription drops, so a resync that straddles a drop does not claim completeness. */
  let generation = 0;
  /** Revocations made here that could not be published yet. */
  const unpublished = new Set<string>();
  let retry: NodeJS.Timeout | undefined;

  const publish = async (ids: string[]) => {
    if (!redis || ids.length === 0) return;
    if (redis.status !== 'ready') {
      for (const id of ids) unpublished.add(id);
      return;
    }
    try {
      await redis.publish(CHANNEL, JSON.stringify(ids));
    } catch (error) {
      for (const id of ids) unpublished.add(id);
      warn(error, 'could not publish session revocations: they are sent again when Redis is back');
    }
  };

  /** Back on Redis: listen again, then learn from the database what was revoked while this instance could not hear. */
  const resync = async () => {
    if (!subscriber || closed) return;
    const mine = generation;
    try {
      await subscriber.subscribe(CHANNEL);
      if (options.reload) remember(await options.reload());
      if (mine === generation && !closed) complete = true;
    } catch (error) {
      if (mine !== generation || closed) return;
      warn(error, 'could not reload session revocations after Redis came back: retrying');
      retry = setTimeout(() => void resync(), RELOAD_RETRY_MS);
      retry.unref();
    }
  };

  if (redis) {
    subscriber = redis.duplicate({ commandTimeout: undefined });
    subscriber.on('message', (_channel: string, message: string) => {
      try {
        const ids = JSON.parse(message) as unknown;
        if (Array.isArray(ids)) remember(ids.filter((id): id is string => typeof id === 'string'));
      } catch {
        // Not ours: ignore.
      }
    });
    // ioredis reports its connection errors as events: without a listener they would be thrown.
    subscriber.on('error', () => {});
    subscriber.on('close', () => {
      generation += 1;
      complete = false;
    });
    let started = false;
    subscriber.on('ready', () => {
      if (started) void resync();
    });
    listening = subscriber.subscribe(CHANNEL).then(() => {
      started = true;
      complete = true;
    });
    redis.on('ready', () => {
      if (unpublished.size === 0) return;
      const ids = [...unpublished];
      unpublished.clear();
      void publish(ids);
    });
  }

  return {
    isRevoked(sessionId) {
      const until = revoked.get(sessionId);
      return until !== undefined && until >= Date.now();
    },
    get complete() {
      return complete;
    },
    async revoke(sessionIds) {
      if (sessionIds.length === 0) return;
      remember(sessionIds);
      await publish(sessionIds);
    },
    preload: remember,
    listening,
    async close() {
      closed = true;
      clearInterval(sweep);
      clearTimeout(retry);
      if (subscriber) subscriber.disconnect();
    },
  };
}
