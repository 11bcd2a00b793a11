import type { Redis } from 'ioredis';

/**
 * Which sessions were revoked recently enough that their access tokens could still be alive.
 *
 * Checking a token costs one Map lookup: no database round trip for the common, unrevoked
 * case. An entry is only needed for one access-token lifetime after revocation (an older
 * access token has expired anyway; refresh tokens are always checked against the database).
 * With Redis, revocations are published so every instance learns of them at once; at start
 * an instance loads the recent revocations from the database, which every instance shares.
 */
export interface RevocationList {
  isRevoked(sessionId: string): boolean;
  revoke(sessionIds: string[]): Promise<void>;
  /** Entries that must be known at start: sessions revoked within one access-token lifetime. */
  preload(sessionIds: string[]): void;
  /** Resolves once this instance listens for other instances' revocations (at once without Redis). */
  listening: Promise<void>;
  close(): Promise<void>;
}

const CHANNEL = 'lp:session-revocations';

export function createRevocationList(options: { accessTokenTtl: number; redis?: Redis | undefined }): RevocationList {
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

  let subscriber: Redis | undefined;
  let listening = Promise.resolve();
  if (options.redis) {
    subscriber = options.redis.duplicate();
    subscriber.on('message', (_channel: string, message: string) => {
      try {
        const ids = JSON.parse(message) as unknown;
        if (Array.isArray(ids)) remember(ids.filter((id): id is string => typeof id === 'string'));
      } catch {
        // Not ours: ignore.
      }
    });
    listening = subscriber.subscribe(CHANNEL).then(() => undefined);
  }

  return {
    isRevoked(sessionId) {
      const until = revoked.get(sessionId);
      return until !== undefined && until >= Date.now();
    },
    async revoke(sessionIds) {
      if (sessionIds.length === 0) return;
      remember(sessionIds);
      if (options.redis) await options.redis.publish(CHANNEL, JSON.stringify(sessionIds));
    },
    preload: remember,
    listening,
    async close() {
      clearInterval(sweep);
      if (subscriber) subscriber.disconnect();
    },
  };
}
