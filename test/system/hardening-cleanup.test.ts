import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createDatabase } from '../../src/db/index.js';
import { createFileCleanup } from '../../src/storage/cleanup.js';
import { createLocalStorage } from '../../src/storage/local.js';
import { buildTestApp, freshDatabaseUrl, onPostgres } from '../helpers/app.js';
import { multipart } from '../helpers/http.js';
import { startServer } from '../helpers/server.js';
import type { RunningServer } from '../helpers/server.js';

async function eventually(check: () => boolean, ms = 15_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

const TWO_DAYS_AGO = new Date(Date.now() - 2 * 86_400_000);

describe('hardening: durable file cleanup', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'lp-cleanup-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('deletes after commit what the transaction recorded, and nothing when it rolls back', async () => {
    const app = await buildTestApp();
    try {
      const files = createFileCleanup({ db: app.database.db, storage: app.services.storage });
      await app.services.storage.put('videos/kept0001.mp4', Buffer.from('kept'), 'video/mp4');
      await app.services.storage.put('videos/gone0001.mp4', Buffer.from('gone'), 'video/mp4');
      await app.database.db
        .transaction()
        .execute(async (trx) => {
          await files.schedule(trx, ['videos/kept0001.mp4']);
          throw new Error('the change fails');
        })
        .catch(() => undefined);
      const keys = await app.database.db.transaction().execute((trx) => files.schedule(trx, ['videos/gone0001.mp4', null]));
      assert.ok(existsSync(path.join(app.mediaRoot, 'videos/gone0001.mp4')), 'not before the commit is acted on');
      await files.deleteScheduled(keys);
      assert.ok(!existsSync(path.join(app.mediaRoot, 'videos/gone0001.mp4')));
      assert.ok(existsSync(path.join(app.mediaRoot, 'videos/kept0001.mp4')));
      assert.equal((await app.database.db.selectFrom('file_deletions').selectAll().execute()).length, 0);
    } finally {
      await app.close();
    }
  });

  it('finishes after a SIGKILL between commit and deletion, and sweeps what crashes leave', { timeout: 120_000 }, async () => {
    const db = await freshDatabaseUrl();
    const dir = mkdtempSync(path.join(work, 'kill-'));
    const mediaRoot = path.join(dir, 'media');
    const databaseUrl = onPostgres ? db.url : `sqlite:${path.join(dir, 'db.sqlite3')}`;
    const env = { DATABASE_URL: databaseUrl, MEDIA_ROOT: mediaRoot, RATE_LIMIT_LOGIN: 'off', RATE_LIMIT_REGISTER: 'off' };
    const api = (port: number, method: string, url: string, body: unknown, token?: string) =>
      fetch(`http://127.0.0.1:${port}${url}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> }));

    const server = await startServer(env, dir);
    const database = createDatabase(databaseUrl);
    let restarted: RunningServer | undefined;
    try {
      // Two users with profile images, uploaded through the running server.
      const keys: string[] = [];
      for (const name of ['dropper', 'keeper']) {
        await api(server.port, 'POST', '/api/register/', { username: name, email: `${name}@example.com`, password: 'violet-Sunrise-42' });
        const { body: tokens } = await api(server.port, 'POST', '/api/login/', { username: name, password: 'violet-Sunrise-42' });
        const image = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#a00' } })
          .png()
          .toBuffer();
        const form = multipart({}, { profile_image: { filename: 'a.png', contentType: 'image/png', data: image } });
        const res = await fetch(`http://127.0.0.1:${server.port}/api/profile/`, {
          method: 'PATCH',
          headers: { ...form.headers, authorization: `Bearer ${tokens.access ?? ''}` },
          body: form.payload,
        });
        assert.equal(res.status, 200);
        const url = ((await res.json()) as { profile_image: string }).profile_image;
        keys.push(new URL(url).pathname.replace('/media/', ''));
      }
      const [dropped = '', kept = ''] = keys;

      // The change that drops the first image commits with its deletion recorded, as a service
      // does it; the process dies before the deletion after the commit runs.
      const files = createFileCleanup({ db: database.db, storage: createLocalStorage(mediaRoot) });
      await database.db.transaction().execute(async (trx) => {
        await trx.updateTable('users').set({ profile_image: null }).where('username', '=', 'dropper').execute();
        await files.schedule(trx, [dropped]);
      });
      server.child.kill('SIGKILL');
      await server.exited;
      assert.ok(existsSync(path.join(mediaRoot, dropped)), 'the file outlived the kill');

      // What else a crash leaves: a cut upload and an upload whose row never came, both old;
      // and a fresh unreferenced file (an upload in flight) that must stay.
      mkdirSync(path.join(mediaRoot, 'videos'), { recursive: true });
      const partial = 'videos/cut0001.mp4.0b3c8f2e-1d2a-4c5b-9e8f-7a6b5c4d3e2f.partial';
      const orphan = 'videos/orphan0001.mp4';
      const fresh = 'videos/inflight0001.mp4';
      for (const name of [partial, orphan, fresh]) writeFileSync(path.join(mediaRoot, name), 'bytes');
      for (const name of [partial, orphan, kept]) utimesSync(path.join(mediaRoot, name), TWO_DAYS_AGO, TWO_DAYS_AGO);

      restarted = await startServer(env, dir);
      assert.ok(await eventually(() => !existsSync(path.join(mediaRoot, dropped))), 'the recorded deletion is finished at start');
      assert.ok(
        await eventually(() => !existsSync(path.join(mediaRoot, partial)) && !existsSync(path.join(mediaRoot, orphan))),
        'old strays are swept',
      );
      assert.ok(existsSync(path.join(mediaRoot, kept)), 'an old file a row names stays');
      assert.ok(existsSync(path.join(mediaRoot, fresh)), 'a fresh file stays');
      assert.equal((await database.db.selectFrom('file_deletions').selectAll().execute()).length, 0);
      const image = await fetch(`http://127.0.0.1:${restarted.port}/media/${kept}`);
      assert.equal(image.status, 200);
    } finally {
      server.child.kill('SIGKILL');
      restarted?.child.kill('SIGTERM');
      await restarted?.exited;
      await database.close();
      await db.drop();
    }
  });
});
