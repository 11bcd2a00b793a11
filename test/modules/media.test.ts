import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createMediaUrls } from '../../src/modules/media/urls.js';
import type { TestUser } from '../helpers/factories.js';
import { createAdmin, createCourse } from '../helpers/factories.js';
import type { FilePart } from '../helpers/http.js';
import { multipart } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { samples, mediaFiles, keyOf } from '../helpers/media.js';

const SMALL_VIDEO_LIMIT = 64 * 1024;

describe('lesson uploads and media delivery', () => {
  let app: TestApp;
  let owner: TestUser;
  let courseId: number;

  before(async () => {
    app = await buildTestApp({ VIDEO_MAX_BYTES: String(SMALL_VIDEO_LIMIT) });
    const course = await createCourse(app, { is_published: true });
    owner = course.owner;
    courseId = course.id;
  });
  after(() => app.close());

  const lessonsOfCourse = async () =>
    (await app.database.db.selectFrom('lessons').select('id').where('course_id', '=', courseId).execute()).length;

  async function upload(files: Record<string, FilePart>, fields: Record<string, string | number> = {}) {
    const form = multipart({ course: courseId, title: 'With files', ...fields }, files);
    return app.inject({ method: 'POST', url: '/api/lessons/', headers: { ...owner.headers, ...form.headers }, payload: form.payload });
  }

  const accepted: [string, 'video' | 'attachment', () => Buffer, string, string][] = [
    ['MP4', 'video', samples.mp4, 'mp4', 'video/mp4'],
    ['QuickTime', 'video', samples.mov, 'mov', 'video/quicktime'],
    ['WebM', 'video', samples.webm, 'webm', 'video/webm'],
    ['Matroska', 'video', samples.mkv, 'mkv', 'video/x-matroska'],
    ['PDF', 'attachment', samples.pdf, 'pdf', 'application/pdf'],
  ];
  for (const [name, field, sample, ext, contentType] of accepted) {
    it(`accepts a ${name} ${field} judged by its bytes, stores it under a server-chosen name and serves it by signed URL`, async () => {
      const data = sample();
      // The declared name and type lie: only the content decides.
      const res = await upload({ [field]: { filename: 'whatever.bin', contentType: 'application/octet-stream', data } });
      assert.equal(res.statusCode, 201, res.body);
      const url = res.json()[field] as string;
      const key = keyOf(url);
      assert.match(key, new RegExp(`^${field === 'video' ? 'videos' : 'attachments'}/[0-9a-f-]{36}\\.${ext}$`));
      assert.ok(existsSync(path.join(app.mediaRoot, key)));
      const file = await app.inject({ method: 'GET', url: url.slice(url.indexOf('/media/')) });
      assert.equal(file.statusCode, 200);
      assert.equal(file.headers['content-type'], contentType);
      assert.deepEqual(file.rawPayload, data);
    });
  }

  const refused: [string, 'video' | 'attachment', () => Buffer | Promise<Buffer>, string][] = [
    ['a PNG as video', 'video', samples.png, 'image/png'],
    ['a text file as video', 'video', samples.text, 'video/mp4'],
    ['a text file as PDF', 'attachment', samples.text, 'application/pdf'],
    ['a video as PDF', 'attachment', samples.mp4, 'application/pdf'],
  ];
  for (const [name, field, sample, declared] of refused) {
    it(`refuses ${name}: 400 on the field, no file and no row left`, async () => {
      const before = await lessonsOfCourse();
      const files = mediaFiles(app.mediaRoot);
      const res = await upload({
        [field]: { filename: `x.${field === 'video' ? 'mp4' : 'pdf'}`, contentType: declared, data: await sample() },
      });
      assert.equal(res.statusCode, 400, res.body);
      assert.ok(Array.isArray(res.json()[field]), res.body);
      assert.equal(await lessonsOfCourse(), before);
      assert.deepEqual(mediaFiles(app.mediaRoot), files);
    });
  }

  it('keeps no file of a request that fails after its files were stored', async () => {
    const before = await lessonsOfCourse();
    const files = mediaFiles(app.mediaRoot);
    // A good video first, then a bad attachment: the video was already on disk.
    const res = await upload({
      video: { filename: 'v.mp4', contentType: 'video/mp4', data: samples.mp4() },
      attachment: { filename: 'a.pdf', contentType: 'application/pdf', data: samples.text() },
    });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(mediaFiles(app.mediaRoot), files);
    // Good files, but a clash on order after they were stored.
    const first = await upload({}, { order: 900 });
    assert.equal(first.statusCode, 201);
    const clash = await upload({ video: { filename: 'v.mp4', contentType: 'video/mp4', data: samples.mp4() } }, { order: 900 });
    assert.equal(clash.statusCode, 400);
    assert.deepEqual(Object.keys(clash.json()), ['order']);
    assert.deepEqual(mediaFiles(app.mediaRoot), files);
    assert.equal(await lessonsOfCourse(), before + 1);
  });

  it('refuses a video over VIDEO_MAX_BYTES and keeps nothing of it', async () => {
    const before = await lessonsOfCourse();
    const files = mediaFiles(app.mediaRoot);
    const big = Buffer.concat([samples.mp4(), Buffer.alloc(SMALL_VIDEO_LIMIT)]);
    const res = await upload({ video: { filename: 'big.mp4', contentType: 'video/mp4', data: big } });
    assert.ok(res.statusCode === 413 || res.statusCode === 400, `${res.statusCode} ${res.body}`);
    assert.match(res.body, /limit/);
    assert.equal(await lessonsOfCourse(), before);
    assert.deepEqual(mediaFiles(app.mediaRoot), files);
  });

  it('refuses a file in a field that takes none, and text in a file field', async () => {
    const extra = await upload({ thumbnail: { filename: 'v.mp4', contentType: 'video/mp4', data: samples.mp4() } });
    assert.equal(extra.statusCode, 400);
    assert.ok(extra.json().thumbnail);
    const text = await upload({}, { video: 'not a file' });
    assert.equal(text.statusCode, 400);
    assert.ok(text.json().video);
  });

  describe('delivery', () => {
    let video: Buffer;
    let url: string;
    let key: string;

    before(async () => {
      video = samples.mp4();
      const res = await upload({ video: { filename: 'v.mp4', contentType: 'video/mp4', data: video } });
      assert.equal(res.statusCode, 201, res.body);
      const absolute = res.json().video as string;
      url = absolute.slice(absolute.indexOf('/media/'));
      key = keyOf(absolute);
    });

    it('answers a range with 206, Content-Range and exactly those bytes', async () => {
      const res = await app.inject({ method: 'GET', url, headers: { range: 'bytes=10-19' } });
      assert.equal(res.statusCode, 206);
      assert.equal(res.headers['content-range'], `bytes 10-19/${video.length}`);
      assert.equal(res.headers['content-length'], '10');
      assert.deepEqual(res.rawPayload, video.subarray(10, 20));
      const suffix = await app.inject({ method: 'GET', url, headers: { range: 'bytes=-7' } });
      assert.equal(suffix.statusCode, 206);
      assert.deepEqual(suffix.rawPayload, video.subarray(video.length - 7));
    });

    it('answers an unsatisfiable range with 416 and the size', async () => {
      const res = await app.inject({ method: 'GET', url, headers: { range: `bytes=${video.length}-` } });
      assert.equal(res.statusCode, 416);
      assert.equal(res.headers['content-range'], `bytes */${video.length}`);
      assert.ok(res.json().detail);
    });

    it('sends the headers of a protected media response and never the file system path', async () => {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['accept-ranges'], 'bytes');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(String(res.headers['cache-control']), /^private, max-age=\d+$/);
      assert.ok(res.headers['x-request-id']);
      assert.ok(res.headers.etag);
      assert.equal(res.headers['content-length'], String(video.length));
      for (const value of Object.values(res.headers)) assert.ok(!String(value).includes(app.mediaRoot));
      const head = await app.inject({ method: 'HEAD', url });
      assert.equal(head.statusCode, 200);
      assert.equal(head.headers['content-length'], String(video.length));
      assert.equal(head.body, '');
    });

    it('lets a signed URL be cached privately, never past its expiry; public media longer', async () => {
      const before = Math.floor(Date.now() / 1000);
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200);
      const expires = Number(new URL(url, 'http://x').searchParams.get('expires'));
      const cacheControl = String(res.headers['cache-control']);
      const directives = cacheControl.split(',').map((d) => d.trim().toLowerCase());
      assert.ok(directives.includes('private'), cacheControl);
      assert.ok(!directives.includes('public') && !directives.includes('immutable'), cacheControl);
      assert.ok(!directives.some((d) => d.startsWith('s-maxage')), cacheControl);
      const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)?.[1]);
      assert.ok(Number.isInteger(maxAge), cacheControl);
      assert.ok(maxAge <= expires - before, `max-age ${maxAge} outlives the URL (expires in ${expires - before}s)`);
      assert.ok(!res.headers.expires || Date.parse(String(res.headers.expires)) <= expires * 1000, 'no Expires header past the URL');

      await app.services.storage.put('thumbnails/cache-sample.png', await samples.png(), 'image/png');
      const pub = await app.inject({ method: 'GET', url: '/media/thumbnails/cache-sample.png' });
      assert.equal(pub.statusCode, 200);
      const publicAge = Number(/max-age=(\d+)/.exec(String(pub.headers['cache-control']))?.[1]);
      assert.match(String(pub.headers['cache-control']), /^public\b/);
      assert.ok(publicAge >= 86400 && publicAge > maxAge, `public media cacheable for a day or more: ${pub.headers['cache-control']}`);
    });

    it('answers If-None-Match with the current ETag with 304', async () => {
      const first = await app.inject({ method: 'GET', url });
      const etag = String(first.headers.etag);
      const again = await app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
      assert.equal(again.statusCode, 304);
      assert.equal(again.body, '');
      const other = await app.inject({ method: 'GET', url, headers: { 'if-none-match': '"something-else"' } });
      assert.equal(other.statusCode, 200);
    });

    it('refuses a missing, tampered or mismatched signature with 403', async () => {
      const unsigned = await app.inject({ method: 'GET', url: `/media/${key}` });
      assert.equal(unsigned.statusCode, 403);
      assert.ok(unsigned.json().detail);
      const signed = new URL(url, 'http://x');
      const signature = signed.searchParams.get('signature') ?? '';
      const flipped = signature.slice(0, -1) + (signature.endsWith('A') ? 'B' : 'A');
      const tampered = await app.inject({
        method: 'GET',
        url: `/media/${key}?expires=${signed.searchParams.get('expires')}&signature=${flipped}`,
      });
      assert.equal(tampered.statusCode, 403);
      const later = Number(signed.searchParams.get('expires')) + 3600;
      const extended = await app.inject({ method: 'GET', url: `/media/${key}?expires=${later}&signature=${signature}` });
      assert.equal(extended.statusCode, 403);
      // The signature is bound to the object: it opens no other file.
      const otherKey = key.replace(/[0-9a-f]{8}/, '00000000');
      const elsewhere = await app.inject({ method: 'GET', url: `/media/${otherKey}?${signed.searchParams.toString()}` });
      assert.equal(elsewhere.statusCode, 403);
      // A guessed key that does not exist answers like one that does.
      const guessed = await app.inject({ method: 'GET', url: '/media/videos/00000000-0000-0000-0000-000000000000.mp4' });
      assert.equal(guessed.statusCode, 403);
    });

    it('serves public media without a signature, cacheable, and 404 for a missing or malformed key', async () => {
      const png = await samples.png();
      await app.services.storage.put('thumbnails/public-sample.png', png, 'image/png');
      const res = await app.inject({ method: 'GET', url: '/media/thumbnails/public-sample.png' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'image/png');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(String(res.headers['cache-control']), /^public, max-age=\d+, immutable$/);
      assert.deepEqual(res.rawPayload, png);
      const ranged = await app.inject({ method: 'GET', url: '/media/thumbnails/public-sample.png', headers: { range: 'bytes=0-3' } });
      assert.equal(ranged.statusCode, 206);
      assert.deepEqual(ranged.rawPayload, png.subarray(0, 4));
      for (const missing of [
        '/media/thumbnails/nope.png',
        '/media/profile-images/nope.png',
        '/media/../secret_key',
        '/media/thumbnails/..%2f..%2fsecret.png',
        '/media/',
      ]) {
        const r = await app.inject({ method: 'GET', url: missing });
        assert.equal(r.statusCode, 404, missing);
        assert.deepEqual(r.json(), { detail: 'Not found.' });
      }
    });
  });

  it('removes the old files when a lesson\u2019s files are replaced or cleared, and all of them when it is deleted', async () => {
    const created = await upload({
      video: { filename: 'v.mp4', contentType: 'video/mp4', data: samples.mp4() },
      attachment: { filename: 'a.pdf', contentType: 'application/pdf', data: samples.pdf() },
    });
    assert.equal(created.statusCode, 201, created.body);
    const lesson = created.json();
    const oldVideo = keyOf(lesson.video);
    const oldAttachment = keyOf(lesson.attachment);

    const form = multipart({}, { video: { filename: 'w.webm', contentType: 'video/webm', data: samples.webm() } });
    const replaced = await app.inject({
      method: 'PATCH',
      url: `/api/lessons/${lesson.id}/`,
      headers: { ...owner.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(replaced.statusCode, 200, replaced.body);
    const newVideo = keyOf(replaced.json().video);
    assert.notEqual(newVideo, oldVideo);
    assert.ok(!existsSync(path.join(app.mediaRoot, oldVideo)));
    assert.ok(existsSync(path.join(app.mediaRoot, newVideo)));
    assert.equal(keyOf(replaced.json().attachment), oldAttachment);
    assert.ok(existsSync(path.join(app.mediaRoot, oldAttachment)));

    const cleared = await app.inject({
      method: 'PATCH',
      url: `/api/lessons/${lesson.id}/`,
      headers: owner.headers,
      payload: { attachment: null },
    });
    assert.equal(cleared.statusCode, 200, cleared.body);
    assert.equal(cleared.json().attachment, null);
    assert.ok(!existsSync(path.join(app.mediaRoot, oldAttachment)));

    const deleted = await app.inject({ method: 'DELETE', url: `/api/lessons/${lesson.id}/`, headers: owner.headers });
    assert.equal(deleted.statusCode, 204);
    assert.ok(!existsSync(path.join(app.mediaRoot, newVideo)));
  });

  it('removes both the video and the attachment when a lesson is deleted', async () => {
    const created = await upload({
      video: { filename: 'v.mp4', contentType: 'video/mp4', data: samples.mp4() },
      attachment: { filename: 'a.pdf', contentType: 'application/pdf', data: samples.pdf() },
    });
    assert.equal(created.statusCode, 201, created.body);
    const lesson = created.json();
    const keys = [keyOf(lesson.video), keyOf(lesson.attachment)];
    for (const key of keys) assert.ok(existsSync(path.join(app.mediaRoot, key)), `${key} stored`);
    const deleted = await app.inject({ method: 'DELETE', url: `/api/lessons/${lesson.id}/`, headers: owner.headers });
    assert.equal(deleted.statusCode, 204);
    for (const key of keys) assert.ok(!existsSync(path.join(app.mediaRoot, key)), `${key} removed`);
    assert.deepEqual(
      mediaFiles(app.mediaRoot).filter((f) => keys.includes(f)),
      [],
    );
  });

  it('lets an admin manage lesson files too', async () => {
    const admin = await createAdmin(app);
    const form = multipart(
      { course: courseId, title: 'By admin' },
      { attachment: { filename: 'a.pdf', contentType: 'application/pdf', data: samples.pdf() } },
    );
    const res = await app.inject({
      method: 'POST',
      url: '/api/lessons/',
      headers: { ...admin.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.ok(res.json().attachment);
  });
});

describe('signed media URLs expire', () => {
  it('refuses a URL once its expiry has passed (MEDIA_URL_TTL=1)', async () => {
    const app = await buildTestApp({ MEDIA_URL_TTL: '1' });
    try {
      const course = await createCourse(app, { is_published: true });
      const form = multipart(
        { course: course.id, title: 'Short-lived' },
        { attachment: { filename: 'a.pdf', contentType: 'application/pdf', data: samples.pdf() } },
      );
      const res = await app.inject({
        method: 'POST',
        url: '/api/lessons/',
        headers: { ...course.owner.headers, ...form.headers },
        payload: form.payload,
      });
      assert.equal(res.statusCode, 201, res.body);
      const url = String(res.json().attachment);
      const expires = Number(new URL(url).searchParams.get('expires'));
      assert.ok(expires * 1000 - Date.now() <= 1000, 'no longer than MEDIA_URL_TTL');
      const fetchIt = () => app.inject({ method: 'GET', url: url.slice(url.indexOf('/media/')) });
      const early = await fetchIt();
      // (Unless the second has already passed: then there is no cacheable answer to judge.)
      if (early.statusCode === 200) {
        const maxAge = Number(/max-age=(\d+)/.exec(String(early.headers['cache-control']))?.[1]);
        assert.ok(maxAge <= 1, `a short-lived URL is cached no longer than it lives: ${early.headers['cache-control']}`);
      }
      assert.ok(
        await waitFor(async () => (await fetchIt()).statusCode === 403, { timeoutMs: 5000, intervalMs: 50 }),
        'refused once expired',
      );
      assert.ok(Date.now() >= expires * 1000, 'not refused before its expiry');
      const late = await fetchIt();
      assert.equal(late.statusCode, 403);
      assert.match(late.json().detail, /expired/);
      const fresh = await app.inject({ method: 'GET', url: `/api/lessons/${res.json().id}/`, headers: course.owner.headers });
      const renewed = String(fresh.json().attachment);
      assert.equal((await app.inject({ method: 'GET', url: renewed.slice(renewed.indexOf('/media/')) })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('signs for at most the TTL, keeps one URL for a while, and checks key, expiry and signature', () => {
    let clock = Date.parse('2026-01-01T00:00:07Z');
    const urls = createMediaUrls({ mediaUrl: '/media/', secretKey: 'k'.repeat(40), mediaUrlTtl: 3600 }, () => clock);
    const url = new URL(String(urls.signedUrl('http://h', 'videos/a.mp4')));
    const expires = url.searchParams.get('expires') ?? '';
    const signature = url.searchParams.get('signature') ?? '';
    const lifetime = Number(expires) - clock / 1000;
    assert.ok(lifetime <= 3600 && lifetime > 3600 - 300, String(lifetime));
    clock += 60_000;
    assert.equal(urls.signedUrl('http://h', 'videos/a.mp4'), url.toString(), 'the same URL a minute later, so caches work');
    assert.equal(urls.checkSignature('videos/a.mp4', expires, signature), 'valid');
    assert.equal(urls.checkSignature('videos/b.mp4', expires, signature), 'invalid');
    assert.equal(urls.checkSignature('videos/a.mp4', String(Number(expires) + 1), signature), 'invalid');
    assert.equal(urls.checkSignature('videos/a.mp4', expires, undefined), 'missing');
    assert.equal(urls.checkSignature('videos/a.mp4', 'soon', signature), 'invalid');
    clock = Number(expires) * 1000;
    assert.equal(urls.checkSignature('videos/a.mp4', expires, signature), 'expired');
    const otherSecret = createMediaUrls({ mediaUrl: '/media/', secretKey: 'j'.repeat(40), mediaUrlTtl: 3600 }, () => clock - 1000);
    assert.equal(otherSecret.checkSignature('videos/a.mp4', expires, signature), 'invalid');
    assert.equal(urls.signedUrl('http://h', null), null);
  });
});
