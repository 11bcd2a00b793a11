import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import type { FastifyServerOptions } from 'fastify';
import { loadConfig } from './config.js';
import type { Config } from './config.js';
import { createDatabase } from './db/index.js';
import type { Database } from './db/index.js';
import { createMigrator, migrateToLatest } from './db/migrator.js';
import { buildApp } from './app.js';

/** A failure at start, said once and plainly, naming the setting to look at. */
export class StartupError extends Error {}

/** A URL for a message: the password hidden. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Why a connection failed, in words (no library text). */
function reason(error: unknown): string {
  const raw = (error as { code?: unknown }).code;
  const code = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '';
  const causes: Record<string, string> = {
    ECONNREFUSED: 'the connection was refused (is it running, on that host and port?)',
    ENOTFOUND: 'the host name does not resolve',
    EAI_AGAIN: 'the host name does not resolve',
    ETIMEDOUT: 'the connection timed out',
    ECONNRESET: 'the connection was reset',
    '28P01': 'the password was refused',
    '28000': 'the user may not connect',
    '3D000': 'the database does not exist',
    SQLITE_CANTOPEN: 'the file cannot be opened (does its folder exist and is it writable?)',
    SQLITE_NOTADB: 'the file is not a SQLite database',
  };
  return causes[code] ?? (code ? `it failed (${code})` : 'it did not answer');
}

async function openDatabase(config: Readonly<Config>): Promise<Database> {
  let database: Database;
  try {
    database = createDatabase(config.databaseUrl);
  } catch (error) {
    throw new StartupError(`Cannot open the database at DATABASE_URL=${redact(config.databaseUrl)}: ${reason(error)}`);
  }
  try {
    await database.ping();
  } catch (error) {
    await database.close().catch(() => {});
    throw new StartupError(`Cannot reach the database at DATABASE_URL=${redact(config.databaseUrl)}: ${reason(error)}`);
  }
  return database;
}

async function checkRedis(url: string): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
    enableOfflineQueue: false,
  });
  let cause: unknown;
  probe.on('error', (error) => {
    cause ??= error;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new StartupError(`Cannot reach Redis at REDIS_URL=${redact(url)}: ${reason(cause ?? error)}`);
  } finally {
    probe.disconnect();
  }
}

/** With MIGRATE_ON_START=false a rollout migrates once, before the instances start: refuse a schema that is behind. */
async function requireMigrated(database: Database): Promise<void> {
  const migrator = createMigrator(database.db);
  const pending = (await migrator.getMigrations()).filter((m) => !m.executedAt).map((m) => m.name);
  if (pending.length > 0) {
    await database.close();
    throw new StartupError(
      `The database is behind this version (pending: ${pending.join(', ')}) and MIGRATE_ON_START=false: run "npm run migrate" once, then start.`,
    );
  }
}

/**
 * Logs: one line per request. On a terminal (and not in production) pino-pretty makes them
 * readable; otherwise JSON lines for a collector.
 */
export function loggerOptions(config: Readonly<Config>, tty: boolean): FastifyServerOptions['logger'] {
  if (tty && config.env !== 'production') {
    return {
      level: config.logLevel,
      transport: {
        target: createRequire(import.meta.url).resolve('pino-pretty'),
        options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,reqId,method,url,statusCode,responseTime', singleLine: true },
      },
    };
  }
  return { level: config.logLevel };
}

const SHUTDOWN_GRACE_MS = 25_000;
/** How often stray files are swept (besides once at start). */
const FILE_SWEEP_INTERVAL_MS = 3_600_000;
/**
 * Once shutting down, a request still waiting on its client is cut after this much silence:
 * a client stalled mid-body would otherwise hold the exit for the whole grace period.
 */
const SHUTDOWN_IDLE_MS = 2_000;

/** Listens until SIGTERM/SIGINT, then stops accepting, lets requests in flight finish, and closes. */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  const database = await openDatabase(config);
  if (config.redisUrl) await checkRedis(config.redisUrl);
  if (config.migrateOnStart) await migrateToLatest(database.db);
  else await requireMigrated(database);
  const app = await buildApp(config, { database, logger: loggerOptions(config, process.stdout.isTTY === true) });

  // Files a crash left behind: recorded deletions never carried out, cut uploads, unreferenced files.
  const stopSweeping = app.services.files.start(FILE_SWEEP_INTERVAL_MS, (result) => {
    if (result instanceof Error) app.log.error({ err: result }, 'file sweep failed');
    else if (result.recorded + result.partial + result.unreferenced > 0) app.log.info({ files: result }, 'file sweep removed stray files');
  });
  app.addHook('preClose', stopSweeping);

  const receiving = new Set<IncomingMessage>();
  app.server.on('request', (request: IncomingMessage) => {
    if (request.complete) return;
    receiving.add(request);
    request.once('end', () => receiving.delete(request));
    request.once('close', () => receiving.delete(request));
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => {
      app.log.error('requests still in flight after the grace period; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    for (const request of receiving) request.socket.setTimeout(SHUTDOWN_IDLE_MS);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
}

const entry = process.argv[1] ?? '';
if (/server\.(ts|js)$/.test(entry)) {
  serve().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
