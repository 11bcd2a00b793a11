import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrator.js';

export const onPostgres = process.env.TEST_DB === 'postgres';

/** A database of its own for one test file: SQLite in memory, or a fresh PostgreSQL database. */
export async function freshDatabaseUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!onPostgres) return { url: 'sqlite::memory:', drop: async () => {} };
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error('TEST_DB=postgres needs TEST_DATABASE_URL');
  const name = `lp_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface TestApp extends FastifyInstance {
  mediaRoot: string;
}

/**
 * The real app on a fresh migrated database, media in a temporary folder, throttling off
 * unless a test turns it on. Close it with `app.close()`.
 */
export async function buildTestApp(env: Record<string, string> = {}): Promise<TestApp> {
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
    ...env,
  });
  const database = createDatabase(config.databaseUrl, { poolSize: 20 });
  await migrateToLatest(database.db);
  const app = (await buildApp(config, { database, logger: env.LOG_LEVEL ? { level: env.LOG_LEVEL } : false })) as TestApp;
  app.mediaRoot = mediaRoot;
  // onClose hooks run last-added first: this one stops the app's background work (scheduled
  // jobs, the webhook worker) before the database is dropped under it.
  app.addHook('onClose', async () => {
    await app.jobs.stop();
    await app.services.webhookWorker.stop();
    rmSync(mediaRoot, { recursive: true, force: true });
    await drop();
  });
  await app.ready();
  return app;
}
