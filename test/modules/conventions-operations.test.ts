import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createStudent } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { loggerOptions } from '../../src/server.js';
import { migrations } from '../../src/db/migrations/index.js';

/** The newest migration: the one `migrate down` undoes. */
const LAST_MIGRATION = Object.keys(migrations).sort().at(-1) ?? '';

const root = path.resolve(import.meta.dirname, '..', '..');
const TOKEN = 'metrics-token-0123456789abcdef';

function run(script: string, args: string[], env: Record<string, string>, cwd: string) {
  const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(root, script), ...args], {
    cwd,
    env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('settings are checked at start, one clear message each', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'lp-ops-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('refuses an unknown NODE_ENV and LOG_LEVEL, naming them', () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: 'prod' }),
      (e: Error) => e instanceof ConfigError && /NODE_ENV .*"prod"/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'verbose' }),
      (e: Error) => e instanceof ConfigError && /LOG_LEVEL .*"verbose"/.test(e.message),
    );
    assert.throws(() => loadConfig({ NODE_ENV: 'test', REDIS_URL: 'localhost:6379' }), /REDIS_URL/);
    assert.throws(() => loadConfig({ NODE_ENV: 'test', MIGRATE_ON_START: 'maybe' }), /MIGRATE_ON_START/);
    assert.equal(loadConfig({ NODE_ENV: 'test' }).migrateOnStart, true);
    assert.equal(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'DEBUG' }).logLevel, 'debug');
  });

  it('the server exits with one line naming the setting: NODE_ENV, database, Redis', () => {
    const db = `sqlite:${path.join(work, 'db.sqlite3')}`;
    const env = run('src/server.ts', [], { NODE_ENV: 'prod', DATABASE_URL: db }, work);
    assert.equal(env.code, 1);
    assert.match(env.out, /NODE_ENV must be one of development, production, test, not "prod"/);
    assert.equal(env.out.trim().split('\n').length, 1, env.out);

    const pg = run('src/server.ts', [], { DATABASE_URL: 'postgres://lp:secret@127.0.0.1:1/lp' }, work);
    assert.equal(pg.code, 1);
    assert.match(pg.out, /Cannot reach the database at DATABASE_URL=postgres:\/\/lp:\*\*\*@127\.0\.0\.1:1\/lp: the connection was refused/);
    assert.doesNotMatch(pg.out, /secret|at .*node_modules/);

    const redis = run('src/server.ts', [], { DATABASE_URL: db, REDIS_URL: 'redis://127.0.0.1:1' }, work);
    assert.equal(redis.code, 1);
    assert.match(redis.out, /Cannot reach Redis at REDIS_URL=redis:\/\/127\.0\.0\.1:1: the connection was refused/);
    assert.equal(redis.out.trim().split('\n').length, 1, redis.out);
  });

  it('migrate status, migrate down, and MIGRATE_ON_START=false', () => {
    const env = { DATABASE_URL: `sqlite:${path.join(work, 'migrations.sqlite3')}` };
    const before = run('src/cli.ts', ['migrate', 'status'], env, work);
    assert.equal(before.code, 0, before.out);
    assert.match(before.out, /pending +0001_initial/);
    assert.equal(run('src/cli.ts', ['migrate'], env, work).code, 0);
    const applied = run('src/cli.ts', ['migrate', 'status'], env, work);
    assert.match(applied.out, /applied \S+ +0001_initial/);
    assert.match(applied.out, /Up to date\./);
    const down = run('src/cli.ts', ['migrate', 'down'], env, work);
    assert.equal(down.code, 0, down.out);
    assert.match(down.out, new RegExp(`Undone: ${LAST_MIGRATION}`));
    assert.match(run('src/cli.ts', ['migrate', 'status'], env, work).out, new RegExp(`pending +${LAST_MIGRATION}`));
    assert.equal(run('src/cli.ts', ['migrate', 'sideways'], env, work).code, 1);
  });

  it('MIGRATE_ON_START=false refuses a schema that is behind, and starts once migrated, without migrating', async () => {
    const env = { DATABASE_URL: `sqlite:${path.join(work, 'nomigrate.sqlite3')}`, MIGRATE_ON_START: 'false', LOG_LEVEL: 'info' };
    const behind = run('src/server.ts', [], env, work);
    assert.equal(behind.code, 1);
    assert.match(behind.out, /pending: 0001_initial.*MIGRATE_ON_START=false: run "npm run migrate"/);
    assert.equal(run('src/cli.ts', ['migrate'], env, work).code, 0);
    assert.equal(run('src/cli.ts', ['migrate', 'down'], env, work).code, 0);
    assert.match(run('src/server.ts', [], env, work).out, new RegExp(`pending: ${LAST_MIGRATION}`));
    assert.equal(run('src/cli.ts', ['migrate'], env, work).code, 0);
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(root, 'src/server.ts')], {
      cwd: work,
      env: { ...process.env, NODE_ENV: 'development', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (/listening at/.test(out)) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
    assert.match(run('src/cli.ts', ['migrate', 'status'], env, work).out, /Up to date\./);
  });

  it('pretty logs on a terminal outside production, JSON otherwise', () => {
    const dev = loadConfig({ NODE_ENV: 'development', DATABASE_URL: 'sqlite::memory:', SECRET_KEY: 'x'.repeat(32) });
    const prod = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'sqlite::memory:', SECRET_KEY: 'x'.repeat(32) });
    const target = (o: unknown) => (o as { transport?: { target?: string } }).transport?.target;
    assert.match(String(target(loggerOptions(dev, true))), /pino-pretty/);
    assert.equal(target(loggerOptions(dev, false)), undefined);
    assert.equal(target(loggerOptions(prod, true)), undefined);
  });
});

describe('one log line per request', () => {
  it('says method, path (no query), status and time', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) };
    const app = await buildTestApp({ LOG_LEVEL: 'info' });
    // buildTestApp's logger writes to stdout; build the line from a child app's stream instead.
    await app.close();
    const { buildApp } = await import('../../src/app.js');
    const { createDatabase } = await import('../../src/db/index.js');
    const { migrateToLatest } = await import('../../src/db/migrator.js');
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'info' });
    const database = createDatabase(config.databaseUrl);
    await migrateToLatest(database.db);
    const logged = await buildApp(config, { database, logger: { level: 'info', stream } });
    try {
      await logged.inject({ method: 'GET', url: '/api/courses/?search=secret' });
      const requestLines = lines.filter((l) => l.method === 'GET' && l.url === '/api/courses/');
      assert.equal(requestLines.length, 1, JSON.stringify(lines));
      assert.ok(!lines.some((l) => l.msg === 'incoming request' || l.msg === 'request completed'));
      const [line] = requestLines;
      assert.equal(line?.statusCode, 200);
      assert.equal(typeof line?.responseTime, 'number');
      assert.match(String(line?.msg), /^GET \/api\/courses\/ 200 [\d.]+ms$/);
      assert.ok(!JSON.stringify(lines).includes('secret'));
    } finally {
      await logged.close();
    }
  });
});

describe('GET /metrics', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp({ METRICS_TOKEN: TOKEN });
    app.metrics.registerGauge({ name: 'test_deliveries_pending', help: 'pending', collect: () => 3 });
  });
  after(() => app.close());

  it('serves Prometheus text only with the token', async () => {
    const student = await createStudent(app);
    await call(app, 'GET', '/api/courses/');
    await call(app, 'GET', '/api/courses/12345/');
    await call(app, 'GET', '/api/profile/', { token: student.access });
    const none = await call(app, 'GET', '/metrics');
    assert.equal(none.status, 401);
    const wrong = await call(app, 'GET', '/metrics', { headers: { authorization: 'Bearer wrong-token-wrong-token' } });
    assert.equal(wrong.status, 401);
    const res = await call(app, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.text, /http_requests_total\{method="GET",route="\/api\/courses\/",status="200"\} 1/);
    assert.match(res.text, /http_requests_total\{method="GET",route="\/api\/courses\/:id\/",status="404"\} 1/);
    // The one profile request is in the histogram (the +Inf bucket and the count; which finite bucket depends on the machine's load).
    assert.match(res.text, /http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/profile\/",status="200"\} 1/);
    assert.match(res.text, /http_request_duration_seconds_count\{method="GET",route="\/api\/profile\/",status="200"\} 1/);
    assert.match(res.text, /nodejs_eventloop_lag_seconds \d/);
    assert.match(res.text, /db_up 1/);
    assert.match(res.text, /db_ping_seconds \d/);
    assert.match(res.text, /test_deliveries_pending 3/);
  });

  it('does not exist without METRICS_TOKEN', async () => {
    const plain = await buildTestApp();
    try {
      const res = await call(plain, 'GET', '/metrics');
      assert.equal(res.status, 404);
      const withToken = await call(plain, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.notEqual(withToken.status, 200);
    } finally {
      await plain.close();
    }
  });
});
