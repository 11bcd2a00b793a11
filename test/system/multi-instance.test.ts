/**
 * Two instances of the real server (child processes, production settings) over one PostgreSQL
 * database, one Redis (a private redis-server: this test stops it) and one S3-compatible store,
 * behind nginx (Debian's package) configured from deploy/nginx.conf.template, the file
 * docs/deployment.md shows. What a deployment relies on is checked through nginx and on each
 * instance directly.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import pg from 'pg';
import S3rver from 's3rver';
import sharp from 'sharp';
import { freshDatabaseUrl, onPostgres } from '../helpers/app.js';
import { multipart } from '../helpers/http.js';
import { png, samples } from '../helpers/media.js';
import { freePort, http, startServer } from '../helpers/server.js';
import type { HttpOptions, RunningServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const NGINX = '/usr/sbin/nginx';
const TEMPLATE = path.join(root, 'deploy', 'nginx.conf.template');
const BUCKET = 'lp-media';
const LOGIN_RATE = 4;
const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

const skip = !onPostgres
  ? 'several instances share one PostgreSQL database: this test runs on the PostgreSQL pass only (TEST_DB=postgres)'
  : !existsSync(NGINX)
    ? `nginx is not installed (${NGINX}): apt-get install nginx (.ci/run does)`
    : !hasRedisServer
      ? 'redis-server is not installed: apt-get install redis-server'
      : false;

/** deploy/nginx.conf.template filled in: a line naming {{INSTANCE}} once per instance; nothing left unfilled. */
export function renderNginxSite(
  template: string,
  values: { listen: string; serverName: string; instances: string[]; maxBodySize: string },
) {
  const lines = template.split('\n').flatMap((line) => {
    if (line.trimStart().startsWith('#')) return [line];
    if (line.includes('{{INSTANCE}}')) return values.instances.map((i) => line.replace('{{INSTANCE}}', i));
    return [
      line
        .replace('{{LISTEN}}', values.listen)
        .replace('{{SERVER_NAME}}', values.serverName)
        .replace('{{MAX_BODY_SIZE}}', values.maxBodySize),
    ];
  });
  const text = lines.join('\n');
  const left = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n')
    .match(/\{\{\w+\}\}/);
  if (left) throw new Error(`deploy/nginx.conf.template: ${left[0]} is not filled in`);
  return text;
}

interface Instance {
  name: string;
  port: number;
  base: string;
  server: RunningServer;
}

interface Actor {
  from: string;
  username: string;
  password: string;
}

interface Tokens {
  access: string;
  refresh: string;
}

describe('several instances behind nginx', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lp-multi-'));
  // nginx's workers run as another user when the test runs as root: they must reach their temp folders.
  chmodSync(dir, 0o755);
  let database: { url: string; drop: () => Promise<void> };
  let pool: pg.Pool;
  let s3rver: S3rver;
  let redisPort: number;
  let redisProcess: ChildProcess | undefined;
  let nginx: ChildProcess | undefined;
  let nginxBase: string;
  const instances: Instance[] = [];
  let env: Record<string, string>;
  let categoryId: number;
  let actors = 0;

  const startRedis = async () => {
    const child = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const probe = new Redis(redisPort, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    const up = await waitFor(
      async () => {
        try {
          if (probe.status !== 'ready') await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          return false;
        }
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    probe.disconnect();
    assert.ok(up, 'the private redis-server answers');
    return child;
  };
  const stopRedis = async () => {
    const child = redisProcess;
    redisProcess = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  const startInstance = async (name: string, port: number, extra: Record<string, string> = {}): Promise<Instance> => {
    const cwd = path.join(dir, name);
    mkdirSync(cwd, { recursive: true });
    const server = await startServer({ ...env, PORT: String(port), MEDIA_ROOT: path.join(cwd, 'media'), ...extra }, cwd);
    return { name, port, base: `http://127.0.0.1:${port}`, server };
  };

  /** Each actor its own client address (any 127.x.y.z reaches loopback), so per-address limits never mix. */
  const newActor = (): Actor => {
    actors += 1;
    return { from: `127.10.${Math.floor(actors / 250)}.${(actors % 250) + 1}`, username: `user${actors}`, password: 'violet-Sunrise-42' };
  };
  const via = (base: string, actor: Actor | undefined, method: string, url: string, options: HttpOptions = {}) =>
    http(base, method, url, { ...options, ...(actor ? { from: actor.from } : {}) });
  const login = async (actor: Actor, base = nginxBase): Promise<Tokens> => {
    const res = await via(base, actor, 'POST', '/api/login/', { body: { username: actor.username, password: actor.password } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return { access: res.body.access, refresh: res.body.refresh };
  };
  const signUp = async (role: 'student' | 'instructor' = 'student') => {
    const actor = newActor();
    const res = await via(nginxBase, actor, 'POST', '/api/register/', {
      body: { username: actor.username, email: `${actor.username}@example.com`, password: actor.password, role },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { actor, tokens: await login(actor) };
  };
  const profileStatus = async (base: string, token: string) => (await http(base, 'GET', '/api/profile/', { token })).status;
  const logs = () => instances.map((i) => `--- ${i.name}\n${i.server.output().slice(-4000)}`).join('\n');

  before(async () => {
    database = await freshDatabaseUrl();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });

    redisPort = await freePort();
    redisProcess = await startRedis();

    s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(dir, 's3') });
    const s3Address = await s3rver.run();
    const endpoint = `http://127.0.0.1:${s3Address.port}`;
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    s3.destroy();

    env = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      SECRET_KEY: randomBytes(32).toString('hex'),
      STORAGE: 's3',
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      TRUST_PROXY: 'true',
      INSTRUCTOR_AUTO_APPROVE: 'true',
      RATE_LIMIT_LOGIN: `${LOGIN_RATE}/minute`,
      RATE_LIMIT_REGISTER: 'off',
      LOG_LEVEL: 'info',
    };
    // Both start at once on the empty database: each migrates at start, one at a time under the migrator's lock.
    const [portA, portB] = [await freePort(), await freePort()];
    instances.push(...(await Promise.all([startInstance('a', portA), startInstance('b', portB)])));

    const category = await pool.query<{ id: number }>(
      `insert into categories (name, slug) values ('Operations', 'operations') returning id`,
    );
    categoryId = category.rows[0]!.id;

    const nginxPort = await freePort();
    nginxBase = `http://127.0.0.1:${nginxPort}`;
    const site = renderNginxSite(readFileSync(TEMPLATE, 'utf8'), {
      listen: `127.0.0.1:${nginxPort}`,
      serverName: '127.0.0.1',
      instances: instances.map((i) => `127.0.0.1:${i.port}`),
      maxBodySize: '20m',
    });
    const conf = path.join(dir, 'nginx');
    mkdirSync(conf);
    writeFileSync(path.join(conf, 'learning-platform.conf'), site);
    // The process-level part a distribution's /etc/nginx/nginx.conf holds, with every path in the temp folder.
    writeFileSync(
      path.join(conf, 'nginx.conf'),
      `daemon off;
worker_processes 1;
pid ${conf}/nginx.pid;
error_log ${conf}/error.log warn;
events { worker_connections 256; }
http {
    access_log ${conf}/access.log;
    client_body_temp_path ${conf}/body;
    proxy_temp_path ${conf}/proxy;
    fastcgi_temp_path ${conf}/fastcgi;
    uwsgi_temp_path ${conf}/uwsgi;
    scgi_temp_path ${conf}/scgi;
    include ${conf}/learning-platform.conf;
}
`,
    );
    let nginxOut = '';
    nginx = spawn(NGINX, ['-p', conf, '-c', path.join(conf, 'nginx.conf'), '-e', path.join(conf, 'error.log')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    nginx.stderr?.on('data', (c: Buffer) => (nginxOut += c.toString()));
    const up = await waitFor(
      async () => {
        try {
          return (await http(nginxBase, 'GET', '/health')).status === 200;
        } catch {
          return false;
        }
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    assert.ok(
      up,
      `nginx answers: ${nginxOut} ${existsSync(path.join(conf, 'error.log')) ? readFileSync(path.join(conf, 'error.log'), 'utf8') : ''}`,
    );
  });

  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx!.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    await Promise.all(
      instances.map(async (i) => {
        if (i.server.child.exitCode === null && i.server.child.signalCode === null) {
          i.server.child.kill('SIGTERM');
          await i.server.exited;
        }
      }),
    );
    await stopRedis();
    await s3rver?.close();
    await pool?.end();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts both instances at once on an empty database (migrations run once, under a lock)', async () => {
    const applied = await pool.query<{ name: string }>('select name from kysely_migration');
    const names = applied.rows.map((r) => r.name);
    assert.equal(new Set(names).size, names.length, 'no migration recorded twice');
    assert.ok(names.length > 0);
    for (const i of instances) assert.equal((await http(i.base, 'GET', '/ready')).status, 200, logs());
  });

  it('a logout through one instance kills the tokens on the other', async () => {
    const { actor, tokens: first } = await signUp();
    const second = await login(actor);
    const [a, b] = instances as [Instance, Instance];
    for (const i of instances) for (const t of [first, second]) assert.equal(await profileStatus(i.base, t.access), 200);

    const out = await http(a.base, 'POST', '/api/logout/', { token: first.access, body: { refresh: first.refresh } });
    assert.equal(out.status, 205, JSON.stringify(out.body));
    assert.ok(await waitFor(async () => (await profileStatus(b.base, first.access)) === 401), 'B refuses the access token');
    assert.equal(await profileStatus(nginxBase, first.access), 401);
    assert.equal((await http(b.base, 'POST', '/api/token/refresh/', { body: { refresh: first.refresh } })).status, 401);
    // The other session lives on, on both.
    for (const i of instances) assert.equal(await profileStatus(i.base, second.access), 200);

    // logout-all through nginx: every session dies on every instance.
    const third = await login(actor, b.base);
    assert.equal((await http(nginxBase, 'POST', '/api/logout-all/', { token: second.access })).status, 205);
    for (const i of instances) {
      for (const t of [second, third]) {
        assert.ok(await waitFor(async () => (await profileStatus(i.base, t.access)) === 401), `${i.name} refuses every token`);
      }
    }
    assert.equal((await http(a.base, 'POST', '/api/token/refresh/', { body: { refresh: third.refresh } })).status, 401);
  });

  it('rate limits are shared: login attempts spread over both instances hit the limit at the same total', async () => {
    const attempt = (base: string, actor: Actor) =>
      via(base, actor, 'POST', '/api/login/', { body: { username: 'nobody', password: 'wrong-password-1' } });
    const [a, b] = instances as [Instance, Instance];

    // Directly, alternating between the instances.
    const direct = newActor();
    const statuses: number[] = [];
    for (let n = 0; n < LOGIN_RATE + 2; n++) statuses.push((await attempt(n % 2 ? b.base : a.base, direct)).status);
    assert.deepEqual(statuses, [...Array<number>(LOGIN_RATE).fill(401), 429, 429]);

    // Through nginx, which spreads them (round-robin) and passes the client address on.
    const proxied = newActor();
    const seen = (i: Instance) => (i.server.output().match(/POST \/api\/login\/ (?:401|429)/g) ?? []).length;
    const before = instances.map(seen);
    const viaNginx: number[] = [];
    for (let n = 0; n < LOGIN_RATE + 1; n++) viaNginx.push((await attempt(nginxBase, proxied)).status);
    assert.deepEqual(viaNginx, [...Array<number>(LOGIN_RATE).fill(401), 429]);
    const handled = instances.map((i, n) => seen(i) - before[n]!);
    assert.ok(
      handled.every((count) => count > 0),
      `both instances answered some of them: ${handled.join(', ')}`,
    );
    // Another address is not throttled by these.
    assert.equal((await attempt(nginxBase, newActor())).status, 401);
  });

  it('a file uploaded through one instance is served by the other (thumbnail, lesson video)', async () => {
    const [a, b] = instances as [Instance, Instance];
    const { actor, tokens } = await signUp('instructor');
    const form = multipart(
      { title: 'Running it twice', description: 'Two instances', price: '0', category: categoryId, is_published: true },
      { thumbnail: { filename: 't.png', contentType: 'image/png', data: await png(48, 32) } },
    );
    const course = await via(a.base, actor, 'POST', '/api/courses/', { token: tokens.access, raw: form });
    assert.equal(course.status, 201, JSON.stringify(course.body));
    const thumbnail = new URL(course.body.thumbnail);
    const fromA = await http(a.base, 'GET', thumbnail.pathname);
    const fromB = await http(b.base, 'GET', thumbnail.pathname);
    assert.equal(fromB.status, 200);
    assert.equal(fromB.headers['content-type'], 'image/png');
    assert.deepEqual(fromB.data, fromA.data);
    const meta = await sharp(fromB.data).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 48, 32]);

    const video = samples.mp4();
    const lessonForm = multipart(
      { course: course.body.id, title: 'Welcome', content: 'Hello' },
      { video: { filename: 'v.mp4', contentType: 'video/mp4', data: video } },
    );
    const lesson = await via(b.base, actor, 'POST', '/api/lessons/', { token: tokens.access, raw: lessonForm });
    assert.equal(lesson.status, 201, JSON.stringify(lesson.body));
    const signed = new URL(lesson.body.video);
    for (const base of [a.base, nginxBase]) {
      const res = await http(base, 'GET', signed.pathname + signed.search);
      assert.equal(res.status, 200);
      assert.deepEqual(res.data, video);
    }
    const part = await http(a.base, 'GET', signed.pathname + signed.search, { headers: { range: 'bytes=0-15' } });
    assert.equal(part.status, 206);
    assert.deepEqual(part.data, video.subarray(0, 16));
  });
  it('Redis goes away: reads keep being served, /ready says 503 naming redis, revoked sessions stay revoked', async () => {
    const [a, b] = instances as [Instance, Instance];
    const { actor, tokens: first } = await signUp();
    const second = await login(actor);
    for (const i of instances) assert.equal(await profileStatus(i.base, first.access), 200);

    await stopRedis();
    try {
      for (const i of instances) {
        assert.ok(
          await waitFor(async () => (await http(i.base, 'GET', '/ready')).status === 503, { timeoutMs: 5000 }),
          `${i.name} not ready`,
        );
        const ready = await http(i.base, 'GET', '/ready');
        assert.deepEqual(ready.body, { status: 'unavailable', checks: { database: 'ok', redis: 'unavailable' } });
      }
      // Reads, anonymous and authenticated, through nginx and on each instance, without waiting on Redis.
      for (const base of [nginxBase, nginxBase, a.base, b.base]) {
        const started = Date.now();
        const list = await http(base, 'GET', '/api/courses/');
        assert.equal(list.status, 200);
        assert.equal(await profileStatus(base, second.access), 200);
        assert.ok(Date.now() - started < 1500, `answered in ${Date.now() - started} ms`);
      }
      // A logout through A while B cannot hear of it: B refuses the token at once (it asks the database).
      const out = await http(a.base, 'POST', '/api/logout/', { token: first.access, body: { refresh: first.refresh } });
      assert.equal(out.status, 205, JSON.stringify(out.body));
      assert.equal(await profileStatus(b.base, first.access), 401);
      assert.equal(await profileStatus(a.base, first.access), 401);
      assert.equal(await profileStatus(nginxBase, first.access), 401);
      assert.equal(await profileStatus(b.base, second.access), 200);
      // Logging in and refreshing still work, and login attempts are still limited: each instance counts alone.
      await login(actor, nginxBase);
      const refreshed = await http(nginxBase, 'POST', '/api/token/refresh/', { body: { refresh: second.refresh } });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      second.refresh = refreshed.body.refresh ?? second.refresh;
      const guesser = newActor();
      const guesses: number[] = [];
      for (let n = 0; n < LOGIN_RATE + 1; n++) {
        guesses.push(
          (await via(a.base, guesser, 'POST', '/api/login/', { body: { username: 'nobody', password: 'wrong-password-1' } })).status,
        );
      }
      assert.deepEqual(guesses, [...Array<number>(LOGIN_RATE).fill(401), 429]);
    } finally {
      redisProcess = await startRedis();
    }
    for (const i of instances) {
      assert.ok(
        await waitFor(async () => (await http(i.base, 'GET', '/ready')).status === 200, { timeoutMs: 10_000, intervalMs: 100 }),
        `${i.name} ready again`,
      );
    }
    // Back to normal: what was revoked meanwhile stays revoked; new revocations reach the other instance.
    assert.equal(await profileStatus(b.base, first.access), 401);
    assert.equal((await http(b.base, 'POST', '/api/logout-all/', { token: second.access })).status, 205);
    assert.ok(await waitFor(async () => (await profileStatus(a.base, second.access)) === 401), 'A refuses it');
  });
  it('killing an instance in the middle of write traffic through nginx loses no acknowledged write', async () => {
    const [a, b] = instances as [Instance, Instance];
    const { actor, tokens } = await signUp('instructor');
    const course = await via(nginxBase, actor, 'POST', '/api/courses/', {
      token: tokens.access,
      body: { title: 'Written under load', description: '', price: '0', category: categoryId },
    });
    assert.equal(course.status, 201, JSON.stringify(course.body));
    const TOTAL = 80;
    const KILL_AFTER = 20;
    const CONCURRENCY = 4;
    const acknowledged = new Map<number, string>();
    const failed: string[] = [];
    let sent = 0;
    let killedAt = -1;
    let acknowledgedAfterKill = 0;
    const writer = async () => {
      while (sent < TOTAL) {
        const n = sent++;
        const title = `write ${n}`;
        try {
          const res = await via(nginxBase, actor, 'POST', '/api/lessons/', {
            token: tokens.access,
            body: { course: course.body.id, title },
          });
          if (res.status !== 201) {
            failed.push(`${title}: ${res.status}`);
            continue;
          }
          acknowledged.set(res.body.id, title);
          if (killedAt >= 0) acknowledgedAfterKill += 1;
          if (acknowledged.size === KILL_AFTER) {
            killedAt = n;
            b.server.child.kill('SIGKILL');
          }
        } catch (error) {
          failed.push(`${title}: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, writer));
    await b.server.exited;
    const handledByB = (b.server.output().match(/POST \/api\/lessons\/ 201/g) ?? []).length;
    assert.ok(handledByB > 0, 'B took part in the writes before it died');
    assert.ok(killedAt >= 0 && acknowledgedAfterKill > 0, 'writes went on through A after the kill');

    const rows = await pool.query<{ id: number; title: string }>('select id, title from lessons where course_id = $1', [course.body.id]);
    const stored = new Map(rows.rows.map((r) => [Number(r.id), r.title]));
    for (const [id, title] of acknowledged) assert.equal(stored.get(id), title, `acknowledged ${title} (lesson ${id}) is in the database`);
    // The only failures are the requests B held when it died: nginx answers them 502 and does not replay a POST.
    assert.ok(failed.length <= CONCURRENCY, `failed: ${failed.join('; ')}`);
    for (const failure of failed) assert.match(failure, /: 502$/);
    console.log(
      `# ${TOTAL} writes, ${acknowledged.size} acknowledged (${acknowledgedAfterKill} after the kill), ${failed.length} failed: ${failed.join('; ') || 'none'}; ${stored.size} stored`,
    );
    assert.equal((await http(a.base, 'GET', '/ready')).status, 200);
  });
});

describe('docs/deployment.md', () => {
  const doc = readFileSync(path.join(root, 'docs', 'deployment.md'), 'utf8');

  it('shows deploy/nginx.conf.template as it is, the file the test above runs nginx with', () => {
    assert.ok(doc.includes('```nginx\n' + readFileSync(TEMPLATE, 'utf8') + '```'), 'docs/deployment.md shows the template verbatim');
  });

  it('names every environment variable src/config.ts reads', () => {
    const source = readFileSync(path.join(root, 'src', 'config.ts'), 'utf8');
    const read = new Set(
      [...source.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|(?:int|bool)\(env, '([A-Z][A-Z0-9_]+)'|parseRate\('([A-Z][A-Z0-9_]+)'/g)].map(
        (m) => m[1] ?? m[2] ?? m[3],
      ),
    );
    assert.ok(read.size > 30, `found ${read.size} settings`);
    const missing = [...read].filter((name) => !doc.includes(`\`${name}\``));
    assert.deepEqual(missing, []);
  });
});
