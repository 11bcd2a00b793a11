import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { MAX_GIF_FRAMES } from '../../src/shared/images.js';
import { buildTestApp, freshDatabaseUrl } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { PASSWORD, createAdmin, createStudent, createUser, createCourse } from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import { call, multipart } from '../helpers/http.js';

const SECURITY_HEADERS = ['x-content-type-options', 'x-frame-options', 'content-security-policy', 'referrer-policy'];

/** A GIF of `frames` 1×1 frames, alternating black and white so that no encoder merges them. */
function frameBomb(frames: number): Buffer {
  const header = Buffer.from([
    ...Buffer.from('GIF89a'),
    1,
    0,
    1,
    0,
    0x80,
    0,
    0,
    0,
    0,
    0,
    255,
    255,
    255,
    0x21,
    0xff,
    0x0b,
    ...Buffer.from('NETSCAPE2.0'),
    3,
    1,
    0,
    0,
    0,
  ]);
  // Graphic control (delay 1), image descriptor 1×1, LZW (min code size 2): clear, pixel, end.
  const frame = (pixel: 0 | 1) =>
    Buffer.from([0x21, 0xf9, 4, 0, 1, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, pixel ? 0x4c : 0x44, 0x01, 0]);
  const pair = Buffer.concat([frame(0), frame(1)]);
  return Buffer.concat([header, Buffer.concat(Array.from({ length: frames / 2 }, () => pair)), Buffer.from([0x3b])]);
}

const mediaPath = (url: string) => new URL(url).pathname + new URL(url).search;

describe('hardening: uploads', () => {
  let app: TestApp;
  let user: TestUser;

  before(async () => {
    app = await buildTestApp();
    user = await createStudent(app);
  });
  after(() => app.close());

  it('keeps at most MAX_GIF_FRAMES frames of an animated GIF, and refuses nothing for it slowly', async () => {
    const bomb = frameBomb(200_000);
    const form = multipart({}, { profile_image: { filename: 'bomb.gif', contentType: 'image/gif', data: bomb } });
    // CPU time of this process (sharp's threads included), which other processes' load does not inflate.
    const started = process.cpuUsage();
    const res = await app.inject({
      method: 'PATCH',
      url: '/api/profile/',
      headers: { ...form.headers, ...user.headers },
      payload: form.payload,
    });
    const spent = process.cpuUsage(started);
    const cpuMs = (spent.user + spent.system) / 1000;
    assert.equal(res.statusCode, 200, res.body);
    const image = await app.inject({ method: 'GET', url: mediaPath(JSON.parse(res.body).profile_image) });
    assert.equal(image.statusCode, 200);
    const { pages = 1 } = await sharp(image.rawPayload).metadata();
    assert.ok(pages <= MAX_GIF_FRAMES, `${pages} frames kept`);
    assert.ok(pages > 1, 'still animated');
    assert.ok(cpuMs < 1500, `took ${cpuMs} ms of CPU`);
  });

  it('refuses a multipart text field past the body limit on that field, never truncating it', async () => {
    const form = multipart({ bio: 'kept?', notes: 'x'.repeat(1024 * 1024 + 10) });
    const res = await call(app, 'PATCH', '/api/profile/', { token: user.access, headers: form.headers, body: form.payload });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.headers['x-error-code'], 'max_length');
    assert.deepEqual(Object.keys(res.body), ['notes']);
    const profile = await call(app, 'GET', '/api/profile/', { token: user.access });
    assert.notEqual(profile.body.bio, 'kept?');
  });

  it('holds all text fields of a multipart body together to the JSON body limit (413)', async () => {
    const fields = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`f${i}`, 'y'.repeat(400 * 1024)]));
    const form = multipart({ bio: 'many', ...fields });
    const res = await call(app, 'PATCH', '/api/profile/', { token: user.access, headers: form.headers, body: form.payload });
    assert.equal(res.status, 413, res.text);
    assert.equal(res.headers['x-error-code'], 'too_large');
    assert.ok(res.body.detail);
    const small = multipart({ bio: 'fits' });
    const ok = await call(app, 'PATCH', '/api/profile/', { token: user.access, headers: small.headers, body: small.payload });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.bio, 'fits');
  });
});

describe('hardening: framework errors speak the contract', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  const cases = [
    { url: '/api/courses/%E0%A4%A/', status: 400, code: 'parse_error' },
    { url: '/api/nowhere/%E0%A4%A/', status: 400, code: 'parse_error' },
    { url: '/api/lessons/%C0%AF/', status: 400, code: 'parse_error' },
    { url: `/api/courses/${'9'.repeat(201)}/`, status: 404, code: 'not_found' },
    { url: `/api/categories/${'a'.repeat(300)}/`, status: 404, code: 'not_found' },
    { url: `/api/reviews/${'1'.repeat(250)}/`, status: 404, code: 'not_found' },
  ];
  for (const { url, status, code } of cases) {
    it(`${url.slice(0, 40)}… is ${status} {detail} with the request id and the security headers`, async () => {
      const res = await app.inject({ method: 'GET', url, headers: { 'x-request-id': 'trace-13' } });
      assert.equal(res.statusCode, status, res.body);
      assert.deepEqual(Object.keys(JSON.parse(res.body)), ['detail']);
      assert.equal(res.headers['x-request-id'], 'trace-13');
      assert.equal(res.headers['x-error-code'], code);
      for (const name of SECURITY_HEADERS) assert.ok(res.headers[name], `${name} missing`);
    });
  }
});

describe('hardening: media', () => {
  let app: TestApp;
  const video = 'videos/hardening0001.mp4';
  const thumbnail = 'thumbnails/hardening0001.png';

  before(async () => {
    app = await buildTestApp();
    await app.services.storage.put(video, Buffer.alloc(5000, 7), 'video/mp4');
    await app.services.storage.put(
      thumbnail,
      await sharp({ create: { width: 4, height: 4, channels: 3, background: '#123' } })
        .png()
        .toBuffer(),
      'image/png',
    );
  });
  after(() => app.close());

  // What fetch() sends on a request carrying If-None-Match: cache directives for caches on the way.
  const asFetchRevalidates = { 'cache-control': 'no-cache', pragma: 'no-cache' };

  for (const [what, url] of [
    ['a signed video', () => mediaPath(app.services.media.signedUrl('http://localhost', video) ?? '')],
    ['a public thumbnail', () => `/media/${thumbnail}`],
  ] as const) {
    it(`answers a conditional GET of ${what} with 304, with Range too`, async () => {
      const first = await app.inject({ method: 'GET', url: url() });
      assert.equal(first.statusCode, 200);
      const etag = String(first.headers.etag);
      assert.ok(etag);
      for (const extra of [{}, { range: 'bytes=0-9' }]) {
        const again = await app.inject({ method: 'GET', url: url(), headers: { 'if-none-match': etag, ...asFetchRevalidates, ...extra } });
        assert.equal(again.statusCode, 304, JSON.stringify(extra));
        assert.equal(again.rawPayload.length, 0);
      }
      const changed = await app.inject({ method: 'GET', url: url(), headers: { 'if-none-match': '"other"', ...asFetchRevalidates } });
      assert.equal(changed.statusCode, 200);
    });
  }

  it('refuses a signed URL whose expiry is spelt other than as signed (leading zeros)', async () => {
    const url = mediaPath(app.services.media.signedUrl('http://localhost', video) ?? '');
    assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200);
    for (const respelt of [url.replace('expires=', 'expires=0'), url.replace('expires=', 'expires=000')]) {
      const res = await app.inject({ method: 'GET', url: respelt });
      assert.equal(res.statusCode, 403, respelt);
    }
  });
});

describe('hardening: signed URLs stay out of the access log', () => {
  it('logs the media URL without its signature and expiry', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const { url, drop } = await freshDatabaseUrl();
    const mediaRoot = mkdtempSync(path.join(tmpdir(), 'lp-media-'));
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: url,
      MEDIA_ROOT: mediaRoot,
      RATE_LIMIT_ANON: 'off',
      RATE_LIMIT_USER: 'off',
    });
    const database = createDatabase(config.databaseUrl);
    await migrateToLatest(database.db);
    const app = await buildApp(config, { database, logger: { level: 'info', stream } });
    try {
      const key = 'videos/logged0001.mp4';
      await app.services.storage.put(key, Buffer.alloc(100, 1), 'video/mp4');
      const signed = new URL(app.services.media.signedUrl('http://localhost', key) ?? '');
      const res = await app.inject({ method: 'GET', url: signed.pathname + signed.search });
      assert.equal(res.statusCode, 200);
      const log = lines.join('');
      const signature = signed.searchParams.get('signature') ?? '';
      assert.ok(log.includes('/media/videos/logged0001.mp4'), 'the request is logged');
      assert.ok(!log.includes(signature), 'no signature in the log');
      assert.ok(!log.includes(`expires=${signed.searchParams.get('expires') ?? ''}`), 'no expiry in the log');
    } finally {
      await app.close();
      rmSync(mediaRoot, { recursive: true, force: true });
      await drop();
    }
  });
});

describe('hardening: ids are plain decimal', () => {
  let app: TestApp;
  let courseId: number;
  before(async () => {
    app = await buildTestApp();
    courseId = (await createCourse(app, { is_published: true })).id;
  });
  after(() => app.close());

  it('serves a course at its one URL only', async () => {
    assert.equal((await app.inject({ method: 'GET', url: `/api/courses/${courseId}/` })).statusCode, 200);
    const hex = `0x${courseId.toString(16)}`;
    for (const spelling of [hex, `${courseId}e0`, `0${courseId}`, `+${courseId}`, `${courseId}.0`, `%20${courseId}`]) {
      const res = await app.inject({ method: 'GET', url: `/api/courses/${spelling}/` });
      assert.equal(res.statusCode, 404, spelling);
    }
  });

  it('refuses such spellings in query filters with a 400 on the field', async () => {
    assert.equal((await call(app, 'GET', `/api/reviews/?course=${courseId}`)).status, 200);
    const res = await call(app, 'GET', `/api/reviews/?course=0x${courseId.toString(16)}`);
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(Object.keys(res.body), ['course']);
  });
});

describe('hardening: login throttling', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp({ RATE_LIMIT_LOGIN: '3/minute', RATE_LIMIT_LOGIN_ACCOUNT: '4/hour' });
  });
  after(() => app.close());

  const login = (remoteAddress: string, username: string, password = 'wrong-password-1') =>
    app.inject({ method: 'POST', url: '/api/login/', remoteAddress, payload: { username, password } });

  it('counts an IPv6 client by its /64', async () => {
    for (const host of ['a', 'b', 'c']) assert.equal((await login(`2001:db8:1:2::${host}`, `nobody-${host}`)).statusCode, 401);
    const fourth = await login('2001:db8:1:2:ffff:ffff:ffff:1', 'nobody-d');
    assert.equal(fourth.statusCode, 429);
    assert.ok(fourth.headers['retry-after']);
    assert.equal((await login('2001:db8:1:3::a', 'nobody-e')).statusCode, 401, 'another /64 is another client');
  });

  it('limits failed logins per account from any address, however the name is spelt', async () => {
    const victim = await createUser(app, { username: 'Victim', email: 'victim@example.com' });
    const spellings = ['victim', 'VICTIM', ' Victim ', 'ｖｉｃｔｉｍ'];
    for (const [i, name] of spellings.entries()) {
      assert.equal((await login(`10.0.${i}.1`, name)).statusCode, 401, name);
    }
    const blocked = await login('10.0.9.1', 'victim', PASSWORD);
    assert.equal(blocked.statusCode, 429, 'even the right password waits');
    assert.equal(blocked.headers['x-error-code'], 'throttled');
    assert.ok(Number(blocked.headers['retry-after']) > 0);
    assert.ok(victim.user.id > 0);
  });

  it('does not count successful logins', async () => {
    await createUser(app, { username: 'regular' });
    for (let i = 0; i < 6; i++) {
      const res = await login(`10.1.${i}.1`, 'regular', PASSWORD);
      assert.equal(res.statusCode, 200, `login ${i + 1}`);
    }
  });
});

describe('hardening: category slugs fit their column', () => {
  let app: TestApp;
  let admin: TestUser;
  before(async () => {
    app = await buildTestApp();
    admin = await createAdmin(app);
  });
  after(() => app.close());

  it('clips a slug that compatibility folding makes longer than the column, numbered ones too', async () => {
    const long = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: 'Ⅷ'.repeat(31) } });
    assert.equal(long.status, 201, long.text);
    assert.ok(long.body.slug.length <= 120, `${long.body.slug.length} characters`);
    assert.match(long.body.slug, /^(viii)+v?i*$/);
    const same = await call(app, 'POST', '/api/categories/', { token: admin.access, body: { name: `${'Ⅷ'.repeat(30)}IX` } });
    assert.equal(same.status, 201, same.text);
    assert.ok(same.body.slug.length <= 120);
    assert.notEqual(same.body.slug, long.body.slug);
    const renamed = await call(app, 'PATCH', `/api/categories/${String(same.body.id)}/`, {
      token: admin.access,
      body: { name: `${'Ⅻ'.repeat(40)}` },
    });
    assert.equal(renamed.status, 200, renamed.text);
    assert.ok(renamed.body.slug.length <= 120);
  });
});
