import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import type { Resolver } from '../../src/modules/events/addresses.js';
import { freshDatabaseUrl } from './app.js';
import type { TestApp } from './app.js';

/** A clock the test moves. */
export function testClock(start = Date.now()) {
  let t = start;
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

/**
 * The real app on a fresh database, like buildTestApp, with the webhook worker's clock and
 * resolver given and (by default) no background polling: tests drive it with runOnce().
 */
export async function buildWebhookApp(
  options: { env?: Record<string, string>; now?: () => Date; resolve?: Resolver; autoStart?: boolean; pollMs?: number } = {},
): Promise<TestApp> {
  const { url, drop } = await freshDatabaseUrl();
  const mediaRoot = mkdtempSync(path.join(tmpdir(), 'lp-media-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url,
    MEDIA_ROOT: mediaRoot,
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_REGISTER: 'off',
    RATE_LIMIT_REFRESH: 'off',
    RATE_LIMIT_ANON: 'off',
    RATE_LIMIT_USER: 'off',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    ...options.env,
  });
  const database = createDatabase(config.databaseUrl, { poolSize: 20 });
  await migrateToLatest(database.db);
  const webhooks = {
    autoStart: options.autoStart ?? false,
    ...(options.now ? { now: options.now } : {}),
    ...(options.resolve ? { resolve: options.resolve } : {}),
    ...(options.pollMs ? { pollMs: options.pollMs } : {}),
  };
  const app = (await buildApp(config, { database, logger: false, webhooks })) as TestApp;
  app.mediaRoot = mediaRoot;
  app.addHook('onClose', async () => {
    rmSync(mediaRoot, { recursive: true, force: true });
    await drop();
  });
  await app.ready();
  return app;
}

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; created_at: string; data: Record<string, unknown> };
}

/**
 * A webhook receiver on loopback. `respond` decides each answer (default 204); return
 * 'hang' to never answer.
 */
export async function startReceiver(respond: (req: Received, res: ServerResponse) => number | 'hang' | void = () => 204) {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      let json: Received['json'];
      try {
        json = JSON.parse(body) as Received['json'];
      } catch {
        json = { id: '', type: '', created_at: '', data: {} };
      }
      const entry = { path: req.url ?? '', headers: req.headers, body, json };
      received.push(entry);
      for (const w of waiters.splice(0)) w();
      const answer = respond(entry, res);
      if (answer === 'hang') return;
      if (res.headersSent || res.writableEnded) return;
      res.statusCode = typeof answer === 'number' ? answer : 204;
      res.end();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (p = '/hook') => `http://127.0.0.1:${port}${p}`,
    received,
    /** Resolves once `n` requests have arrived (or after `ms`). */
    async waitFor(n: number, ms = 10_000): Promise<void> {
      const until = Date.now() + ms;
      while (received.length < n && Date.now() < until) {
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50).unref();
        });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
