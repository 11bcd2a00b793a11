import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { buildTestApp, freshDatabaseUrl, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createStudent } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import { multipart } from '../helpers/http.js';
import { startServer } from '../helpers/server.js';

const root = path.resolve(import.meta.dirname, '..', '..');

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads HTTP/1.1 responses off a raw socket, one at a time, as they complete. */
function responses(socket: net.Socket) {
  let buffer = Buffer.alloc(0);
  const waiting: ((response: RawResponse) => void)[] = [];
  const parse = () => {
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0 || waiting.length === 0) return;
      const [statusLine = '', ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const length = Number(headers['content-length'] ?? 0);
      if (buffer.length < end + 4 + length) return;
      const body = buffer.subarray(end + 4, end + 4 + length).toString();
      buffer = buffer.subarray(end + 4 + length);
      waiting.shift()?.({ status: Number(statusLine.split(' ')[1]), headers, body });
    }
  };
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    parse();
  });
  return () =>
    new Promise<RawResponse>((resolve) => {
      waiting.push(resolve);
      parse();
    });
}

const connect = (port: number) =>
  new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });

const closed = (socket: net.Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('hardening: an oversized JSON body sent without waiting for 100 Continue', () => {
  let app: TestApp;
  let port: number;
  before(async () => {
    app = await buildTestApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  after(() => app.close());

  it('gets a readable 413, and the connection stays usable', { timeout: 15_000 }, async () => {
    const socket = await connect(port);
    const errors: Error[] = [];
    socket.on('error', (error) => errors.push(error));
    const next = responses(socket);
    const body = Buffer.alloc(16 * 1024 * 1024, 'a');
    socket.write(`POST /api/login/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    const written = new Promise<Error | null | undefined>((resolve) => socket.write(body, resolve));
    const refused = await next();
    assert.equal(refused.status, 413);
    assert.deepEqual(Object.keys(JSON.parse(refused.body)), ['detail']);
    assert.equal(await written, null, 'the whole body was taken');
    socket.write('GET /health HTTP/1.1\r\nHost: test\r\n\r\n');
    const health = await next();
    assert.equal(health.status, 200);
    assert.deepEqual(errors, []);
    socket.destroy();
  });
});

describe('hardening: a request that arrives while the server closes', () => {
  it('gets a 503 in the contract format', { timeout: 15_000 }, async () => {
    const app = await buildTestApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const socket = await connect((app.server.address() as AddressInfo).port);
    const next = responses(socket);
    // A request in flight keeps the connection open while closing; a second one follows it on the same connection.
    socket.write('POST /api/login/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{');
    await sleep(200);
    const closing = app.close();
    await sleep(200);
    socket.write('}GET /health HTTP/1.1\r\nHost: test\r\n\r\n');
    assert.equal((await next()).status, 400);
    const late = await next();
    assert.equal(late.status, 503);
    assert.deepEqual(Object.keys(JSON.parse(late.body)), ['detail']);
    assert.equal(late.headers['x-error-code'], 'shutting_down');
    assert.ok(late.headers['x-request-id']);
    assert.equal(late.headers['x-content-type-options'], 'nosniff');
    await closing;
    socket.destroy();
  });
});

describe('hardening: timeouts', () => {
  let app: TestApp;
  let port: number;
  let user: TestUser;
  before(async () => {
    app = await buildTestApp({ REQUEST_TIMEOUT: '1', IDLE_TIMEOUT: '2', HEADERS_TIMEOUT: '1' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
    user = await createStudent(app);
  });
  after(() => app.close());

  it('cuts a JSON body that trickles past REQUEST_TIMEOUT with a 408', { timeout: 15_000 }, async () => {
    const socket = await connect(port);
    const next = responses(socket);
    socket.write('POST /api/login/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{');
    const trickle = setInterval(() => socket.writable && socket.write(' '), 200);
    const started = Date.now();
    try {
      const res = await next();
      assert.equal(res.status, 408);
      assert.deepEqual(Object.keys(JSON.parse(res.body)), ['detail']);
      assert.ok(res.headers['x-request-id']);
      assert.ok(Date.now() - started < 3000, `cut after ${Date.now() - started} ms`);
      await closed(socket);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });

  it('answers headers that never finish with a 408 in the contract format', { timeout: 15_000 }, async () => {
    const socket = await connect(port);
    const next = responses(socket);
    socket.write('GET /health HTTP/1.1\r\nHost: test\r\n');
    const started = Date.now();
    const res = await next();
    assert.equal(res.status, 408);
    assert.deepEqual(Object.keys(JSON.parse(res.body)), ['detail']);
    assert.ok(res.headers['x-request-id']);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(Date.now() - started < 4000);
    socket.destroy();
  });

  it('answers a request Node cannot parse with a 400 in the contract format', { timeout: 15_000 }, async () => {
    const socket = await connect(port);
    const next = responses(socket);
    socket.write('GET /health HTTP/1.1\r\nHost: test\r\nBad Header\r\n\r\n');
    const res = await next();
    assert.equal(res.status, 400);
    assert.deepEqual(Object.keys(JSON.parse(res.body)), ['detail']);
    assert.ok(res.headers['x-request-id']);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    socket.destroy();
  });

  it('lets an upload that keeps sending run past REQUEST_TIMEOUT', { timeout: 15_000 }, async () => {
    const image = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#0a0' } })
      .png()
      .toBuffer();
    const form = multipart({ bio: 'slow but steady' }, { profile_image: { filename: 'a.png', contentType: 'image/png', data: image } });
    const socket = await connect(port);
    const next = responses(socket);
    socket.write(
      `PATCH /api/profile/ HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${user.access}\r\n` +
        `Content-Type: ${form.headers['content-type']}\r\nContent-Length: ${form.payload.length}\r\n\r\n`,
    );
    const pieces = 10;
    const size = Math.ceil(form.payload.length / pieces);
    for (let i = 0; i < pieces; i++) {
      socket.write(form.payload.subarray(i * size, (i + 1) * size));
      await sleep(250);
    }
    const res = await next();
    assert.equal(res.status, 200, JSON.stringify(res));
    assert.equal(JSON.parse(res.body).bio, 'slow but steady');
    socket.destroy();
  });

  it('closes an upload whose client falls silent for IDLE_TIMEOUT', { timeout: 15_000 }, async () => {
    const form = multipart({ bio: 'never finished' });
    const socket = await connect(port);
    socket.on('error', () => {});
    socket.write(
      `PATCH /api/profile/ HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${user.access}\r\n` +
        `Content-Type: ${form.headers['content-type']}\r\nContent-Length: ${form.payload.length + 1000}\r\n\r\n`,
    );
    socket.write(form.payload.subarray(0, 20));
    const started = Date.now();
    await closed(socket);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1500 && elapsed < 5000, `closed after ${elapsed} ms`);
  });
});

describe('hardening: the real server', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'lp-harden-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('is not held at shutdown by a client that stalls mid-body', { timeout: 60_000 }, async () => {
    const db = await freshDatabaseUrl();
    const dir = mkdtempSync(path.join(work, 'stall-'));
    const server = await startServer(
      { DATABASE_URL: onPostgres ? db.url : `sqlite:${path.join(dir, 'db.sqlite3')}`, MEDIA_ROOT: path.join(dir, 'media') },
      dir,
    );
    try {
      const socket = await connect(server.port);
      socket.on('error', () => {});
      socket.write('POST /api/login/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"username":');
      await sleep(300);
      const started = Date.now();
      server.child.kill('SIGTERM');
      const code = await server.exited;
      const elapsed = Date.now() - started;
      // Held, it would be forced out after the 25 s grace period with exit code 1.
      assert.equal(code, 0);
      assert.ok(elapsed < 15_000, `exited after ${elapsed} ms`);
      socket.destroy();
    } finally {
      server.child.kill('SIGKILL');
      await db.drop();
    }
  });

  for (const [what, content] of [
    ['empty', ''],
    ['short', 'only-twenty-chars-xx\n'],
  ] as const) {
    it(`refuses to start with an ${what} data/secret_key, naming it`, async () => {
      const dir = mkdtempSync(path.join(work, 'secret-'));
      mkdirSync(path.join(dir, 'data'));
      writeFileSync(path.join(dir, 'data', 'secret_key'), content);
      const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(root, 'src/server.ts')], {
        cwd: dir,
        env: { ...process.env, NODE_ENV: 'development', SECRET_KEY: '', DATABASE_URL: '', PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const code = await new Promise((resolve) => child.on('exit', resolve));
      assert.notEqual(code, 0);
      assert.match(err, /secret_key/);
      assert.match(err, /32 characters/);
    });
  }
});

describe("hardening: an upload to someone else's lesson is refused before its body is read", () => {
  let app: TestApp;
  let port: number;
  before(async () => {
    app = await buildTestApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  after(() => app.close());

  it('answers 403 while the body is still arriving, and nothing reaches storage', { timeout: 15_000 }, async () => {
    const { createCourse, createLesson, createUser } = await import('../helpers/factories.js');
    const course = await createCourse(app);
    const lesson = await createLesson(app, course.id);
    const intruder = await createUser(app, { role: 'instructor', instructor_status: 'pending' });
    for (const method of ['PATCH', 'PUT']) {
      const socket = await connect(port);
      const next = responses(socket);
      const boundary = 'lpboundary';
      // Announces 50 MiB, sends the first kilobyte and waits: the answer must not need the rest.
      socket.write(
        `${method} /api/lessons/${lesson.id}/ HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${intruder.access}\r\n` +
          `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n`,
      );
      socket.write(`--${boundary}\r\nContent-Disposition: form-data; name="video"; filename="v.mp4"\r\nContent-Type: video/mp4\r\n\r\n`);
      socket.write(Buffer.alloc(1024));
      const refused = await next();
      assert.equal(refused.status, 403, `${method}: ${refused.body}`);
      assert.equal(refused.headers['x-error-code'], 'permission_denied');
      socket.destroy();
    }
    const { mediaFiles } = await import('../helpers/media.js');
    assert.deepEqual(mediaFiles(app.mediaRoot), []);
  });
});
