import type { IncomingMessage } from 'node:http';
import { loadConfig } from './config.js';
import { createDatabase } from './db/index.js';
import { migrateToLatest } from './db/migrator.js';
import { buildApp } from './app.js';
import { createFileCleanup } from './storage/cleanup.js';

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
  const database = createDatabase(config.databaseUrl);
  await migrateToLatest(database.db);
  const app = await buildApp(config, { database });

  // Files a crash left behind: recorded deletions never carried out, cut uploads, unreferenced files.
  const files = createFileCleanup({ db: database.db, storage: app.services.storage });
  const stopSweeping = files.start(FILE_SWEEP_INTERVAL_MS, (result) => {
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
