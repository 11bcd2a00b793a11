import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { freshDatabaseUrl, onPostgres } from '../helpers/app.js';
import { multipart } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { startServer } from '../helpers/server.js';

const root = path.resolve(import.meta.dirname, '..', '..');

async function json(port: number, method: string, url: string, body?: unknown, token?: string) {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, string> };
}

describe('the real server', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'lp-server-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('starts on a fresh directory: creates and migrates the database, keeps a generated secret', async () => {
    const dir = mkdtempSync(path.join(work, 'fresh-'));
    const server = await startServer({ DATABASE_URL: '', MEDIA_ROOT: '' }, dir);
    try {
      const health = await json(server.port, 'GET', '/health');
      assert.equal(health.status, 200);
      const ready = await json(server.port, 'GET', '/ready');
      assert.equal(ready.status, 200);
      assert.ok(existsSync(path.join(dir, 'data', 'db.sqlite3')));
      assert.ok(existsSync(path.join(dir, 'data', 'db.sqlite3-wal')), 'WAL mode');
      const secret = readFileSync(path.join(dir, 'data', 'secret_key'), 'utf8');
      assert.ok(secret.trim().length >= 32);
      const reg = await json(server.port, 'POST', '/api/register/', {
        username: 'first',
        email: 'first@example.com',
        password: 'violet-Sunrise-42',
      });
      assert.equal(reg.status, 201);
    } finally {
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
    }
    // The secret is kept: a token from before a restart still works after it.
    const again = await startServer({ DATABASE_URL: '', MEDIA_ROOT: '' }, dir);
    try {
      const login = await json(again.port, 'POST', '/api/login/', { username: 'first', password: 'violet-Sunrise-42' });
      assert.equal(login.status, 200);
      assert.equal(readFileSync(path.join(dir, 'data', 'secret_key'), 'utf8').trim().length > 0, true);
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  });

  it('refuses to start in production without SECRET_KEY', async () => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(root, 'src/server.ts')], {
      cwd: work,
      env: { ...process.env, NODE_ENV: 'production', SECRET_KEY: '', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(err, /SECRET_KEY is required/);
  });

  it('finishes a request in flight on SIGTERM, then exits cleanly', async () => {
    const db = await freshDatabaseUrl();
    const dir = mkdtempSync(path.join(work, 'shutdown-'));
    const server = await startServer(
      {
        DATABASE_URL: onPostgres ? db.url : `sqlite:${path.join(dir, 'db.sqlite3')}`,
        MEDIA_ROOT: path.join(dir, 'media'),
        LOG_LEVEL: 'debug',
      },
      dir,
    );
    try {
      await json(server.port, 'POST', '/api/register/', { username: 'slow', email: 'slow@example.com', password: 'violet-Sunrise-42' });
      const { body: tokens } = await json(server.port, 'POST', '/api/login/', { username: 'slow', password: 'violet-Sunrise-42' });
      const image = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#0a0' } })
        .png()
        .toBuffer();
      const form = multipart({ bio: 'sent slowly' }, { profile_image: { filename: 'a.png', contentType: 'image/png', data: image } });

      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: server.port,
            method: 'PATCH',
            path: '/api/profile/',
            headers: { ...form.headers, 'content-length': form.payload.length, authorization: `Bearer ${tokens.access}` },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        // Half the body now, SIGTERM, the rest later: the request is in flight during shutdown.
        const half = Math.floor(form.payload.length / 2);
        req.write(form.payload.subarray(0, half));
        void (async () => {
          // The server has the request in hand, then begins to shut down; only then does the rest arrive.
          assert.ok(
            await waitFor(() => /"method":"PATCH","url":"\/api\/profile\/".*"incoming request"/.test(server.output()), { timeoutMs: 5000 }),
            'the server logged the request',
          );
          server.child.kill('SIGTERM');
          assert.ok(await waitFor(() => /shutting down/.test(server.output()), { timeoutMs: 5000 }), 'the server began shutting down');
          req.end(form.payload.subarray(half));
        })().catch(reject);
      });
      const done = await response;
      assert.equal(done.status, 200, done.body);
      assert.equal(JSON.parse(done.body).bio, 'sent slowly');
      assert.equal(await server.exited, 0);
      assert.match(server.output(), /shutting down/);
    } finally {
      server.child.kill('SIGKILL');
      await db.drop();
    }
  });
});
