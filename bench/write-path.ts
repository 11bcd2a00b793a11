/**
 * What one lesson completion (POST and DELETE /api/lessons/{id}/complete/) costs on a
 * benchmark data set, in figures that do not depend on how busy the machine is:
 *
 * 1. In process (app.inject, the webhook worker off), the statements of one request of each
 *    kind: a POST that marks, a POST that changes nothing, a DELETE that unmarks, a DELETE
 *    that changes nothing; then the mean over a random half-and-half mix.
 * 2. The same mix, 32 requests at a time, with the webhook worker on: every statement sent
 *    per request, the worker's (the outbox dispatch each recorded event wakes) included.
 * 3. One at a time: wall and CPU ms per request of this process.
 * 4. With `--load <seconds>`: the production server as a child process under the write mix
 *    (32 connections, as `npm run bench`), with its CPU ms per request (/proc), the CPU ms of
 *    its PostgreSQL backends per request, and PostgreSQL transactions per request.
 *
 *     node --import tsx bench/write-path.ts <DATABASE_URL> [requests] [--load <seconds>]
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/index.js';
import { measure } from './load.js';
import { loadFixture, scenarios } from './scenarios.js';
import { freePort, projectServer, serverEnv } from './servers.js';

const args = process.argv.slice(2);
const loadAt = args.indexOf('--load');
const loadSeconds = loadAt >= 0 ? Number(args[loadAt + 1]) : 0;
const positional = loadAt >= 0 ? args.filter((_, i) => i !== loadAt && i !== loadAt + 1) : args;
const url = positional[0];
if (!url || !Number.isFinite(loadSeconds)) throw new Error('usage: bench/write-path.ts <DATABASE_URL> [requests] [--load <seconds>]');
const requests = Number(positional[1] ?? 2000);
const load = () =>
  loadavg()
    .map((v) => v.toFixed(1))
    .join(' ');

const secretKey = randomBytes(32).toString('hex');
const statements: string[] = [];
let counting = false;
const database = createDatabase(url, { poolSize: 1 });
const fixture = await loadFixture(database.db, secretKey);
const pick = (i: number) => fixture.completions[(i * 7919) % fixture.completions.length]!;
const short = (s: string) => s.replace(/\s+/g, ' ').slice(0, 150);

async function inProcess(worker: boolean) {
  const app = await buildApp(loadConfig(serverEnv(url!, secretKey, 0)), {
    database: createDatabase(url!, {
      observe: (text) => {
        if (counting) statements.push(text);
      },
    }),
    logger: false,
    webhooks: { autoStart: worker },
  });
  const send = async (method: 'POST' | 'DELETE', lessonId: number, token: string) => {
    const response = await app.inject({ method, url: `/api/lessons/${lessonId}/complete/`, headers: { authorization: `Bearer ${token}` } });
    if (response.statusCode !== 200) throw new Error(`${method} ${response.statusCode} ${response.body}`);
  };
  return { app, send };
}

console.log(`load average at start: ${load()}`);

// 1. One request of each kind, the worker off.
{
  const { app, send } = await inProcess(false);
  for (let i = 0; i < 200; i++) await send(i % 2 ? 'DELETE' : 'POST', pick(i).lessonId, pick(i).token);
  const { token, lessonId } = pick(1);
  await send('DELETE', lessonId, token);
  for (const [label, method] of [
    ['POST that marks', 'POST'],
    ['POST of a done lesson (no change)', 'POST'],
    ['DELETE that unmarks', 'DELETE'],
    ['DELETE of an undone lesson (no change)', 'DELETE'],
  ] as const) {
    statements.length = 0;
    counting = true;
    await send(method, lessonId, token);
    counting = false;
    console.log(`${label}: ${statements.length} statements`);
    for (const s of statements) console.log(`  ${short(s)}`);
  }
  statements.length = 0;
  counting = true;
  for (let i = 0; i < requests; i++) await send(i % 2 ? 'DELETE' : 'POST', pick(i + 300).lessonId, pick(i + 300).token);
  counting = false;
  console.log(
    `mix of ${requests} (half POST, half DELETE, one at a time, worker off): ${(statements.length / requests).toFixed(2)} statements per request`,
  );
  await app.close();
}

// 2. 32 at a time with the webhook worker on: every statement, the worker's included.
{
  const { app, send } = await inProcess(true);
  for (let i = 0; i < 200; i++) await send(i % 2 ? 'DELETE' : 'POST', pick(i).lessonId, pick(i).token);
  statements.length = 0;
  counting = true;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < requests) {
        const i = next++;
        await send(i % 2 ? 'DELETE' : 'POST', pick(i + 5000).lessonId, pick(i + 5000).token);
      }
    }),
  );
  const wall = performance.now() - started;
  // Let the worker finish the events of the last requests.
  await app.services.webhookWorker.runOnce();
  counting = false;
  const byKind = new Map<string, number>();
  for (const s of statements) {
    const kind = /webhook_|dispatched_at/.test(s) ? 'worker' : /^\s*(begin|commit|rollback)/i.test(s) ? 'begin/commit' : 'request';
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  }
  console.log(
    `mix of ${requests}, 32 at a time, worker on: ${(statements.length / requests).toFixed(2)} statements per request ` +
      `(${[...byKind].map(([k, n]) => `${k} ${(n / requests).toFixed(2)}`).join(', ')}), ${((requests / wall) * 1000).toFixed(0)} req/s in process`,
  );
  await app.close();
}

// 3. One at a time, timed.
{
  const { app, send } = await inProcess(true);
  for (let i = 0; i < 200; i++) await send(i % 2 ? 'DELETE' : 'POST', pick(i).lessonId, pick(i).token);
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < requests; i++) await send(i % 2 ? 'DELETE' : 'POST', pick(i + 300).lessonId, pick(i + 300).token);
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - started;
  console.log(
    `${requests} completions one at a time: ${(wall / requests).toFixed(3)} ms wall, ${((used.user + used.system) / 1000 / requests).toFixed(3)} ms CPU per request (this process); load ${load()}`,
  );
  await app.close();
}
await database.close();

// 4. The production server under the write mix.
if (loadSeconds > 0) {
  const ticks = 100; // USER_HZ on Linux
  const cpuMs = (pid: number): number => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
    } catch {
      return Number.NaN;
    }
  };
  const dbName = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const backends = async () =>
    (
      await admin.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName])
    ).rows.map((r) => r.pid);
  const xacts = async () =>
    Number(
      (await admin.query<{ n: string }>('select xact_commit + xact_rollback as n from pg_stat_database where datname = $1', [dbName]))
        .rows[0]!.n,
    );
  // Backends report their counters after going idle (at most ~10 s later, PostgreSQL 15).
  const settledXacts = async () => {
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    await admin.query('select pg_stat_clear_snapshot()');
    return xacts();
  };

  const server = await projectServer(serverEnv(url, secretKey, await freePort()));
  try {
    const scenario = scenarios(fixture, 1).find((s) => s.name === 'write-mix')!;
    const run = (seconds: number) =>
      measure({ origin: server.origin, connections: scenario.connections ?? 32, seconds, warmupSeconds: 0, next: scenario.next });
    await run(3);
    const xactsBefore = await settledXacts();
    // Backends of the pool that idled out are opened again by the run: count every backend alive at its end.
    const pgBefore = new Map((await backends()).map((pid) => [pid, cpuMs(pid)]));
    const serverBefore = cpuMs(server.pid);
    const loadBefore = load();
    const m = await run(loadSeconds);
    const serverUsed = cpuMs(server.pid) - serverBefore;
    const pgUsed = (await backends()).map((pid) => cpuMs(pid) - (pgBefore.get(pid) ?? 0)).filter(Number.isFinite);
    const loadAfter = load();
    const xactsUsed = (await settledXacts()) - xactsBefore;
    const per = (v: number) => (v / m.requests).toFixed(3);
    console.log(
      `write mix, production server, 32 connections, ${loadSeconds}s: ${m.requestsPerSecond} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, ` +
        `errors ${m.non2xx + m.errors}; server CPU ${per(serverUsed)} ms/request; PostgreSQL backends (${pgUsed.length}) CPU ${per(
          pgUsed.reduce((a, b) => a + b, 0),
        )} ms/request; ${per(xactsUsed)} transactions/request; load before ${loadBefore}, after ${loadAfter}`,
    );
  } finally {
    await server.stop();
    await admin.end();
  }
}
