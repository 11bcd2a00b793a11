import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import sharp from 'sharp';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createCourse, createStudent } from '../helpers/factories.js';
import { call, multipart } from '../helpers/http.js';
import { samples } from '../helpers/media.js';

const BUCKET = 'lp-media';

describe('S3 storage (against an S3-compatible server)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lp-s3-'));
  let server: S3rver;
  let endpoint: string;
  let app: TestApp;
  /** The same bucket, with protected media answered by a redirect to a presigned URL. */
  let redirecting: TestApp;
  let redirectingUrl: string;
  let s3: S3Client;

  const keys = async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    return (listed.Contents ?? []).map((o) => o.Key).sort();
  };
  const upload = async (token: string, data: Buffer, filename = 'a.png') => {
    const form = multipart({}, { profile_image: { filename, contentType: 'image/png', data } });
    return app.inject({
      method: 'PATCH',
      url: '/api/profile/',
      headers: { ...form.headers, authorization: `Bearer ${token}` },
      payload: form.payload,
    });
  };

  before(async () => {
    server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
    const address = await server.run();
    endpoint = `http://127.0.0.1:${address.port}`;
    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const env = {
      STORAGE: 's3',
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    };
    app = await buildTestApp(env);
    redirecting = await buildTestApp({ ...env, S3_PRESIGNED_REDIRECT: 'true', S3_PRESIGNED_TTL: '120' });
    redirectingUrl = await redirecting.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app?.close();
    await redirecting?.close();
    s3?.destroy();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores an upload in the bucket and serves it with Range and ETag; replacing removes the old object', async () => {
    const s = await createStudent(app);
    const image = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    const res = await upload(s.access, image);
    assert.equal(res.statusCode, 200, res.body);
    const url = new URL(res.json().profile_image);
    const key = url.pathname.replace('/media/', '');
    assert.deepEqual(await keys(), [key]);

    const whole = await app.inject({ method: 'GET', url: url.pathname });
    assert.equal(whole.statusCode, 200);
    assert.equal(whole.headers['content-type'], 'image/png');
    assert.equal(whole.headers['x-content-type-options'], 'nosniff');
    assert.deepEqual((await sharp(whole.rawPayload).metadata()).format, 'png');

    const part = await app.inject({ method: 'GET', url: url.pathname, headers: { range: 'bytes=0-7' } });
    assert.equal(part.statusCode, 206);
    assert.deepEqual(part.rawPayload, whole.rawPayload.subarray(0, 8));
    assert.match(String(part.headers['content-range']), new RegExp(`^bytes 0-7/${whole.rawPayload.length}$`));

    const etag = String(whole.headers.etag);
    assert.ok(etag);
    const cached = await app.inject({ method: 'GET', url: url.pathname, headers: { 'if-none-match': etag } });
    assert.equal(cached.statusCode, 304);

    const replaced = await upload(s.access, await sharp(image).jpeg().toBuffer(), 'b.jpg');
    assert.equal(replaced.statusCode, 200);
    const newKey = new URL(replaced.json().profile_image).pathname.replace('/media/', '');
    assert.deepEqual(await keys(), [newKey]);
  });

  it('keeps nothing in the bucket from a refused upload', async () => {
    const s = await createStudent(app);
    const before = await keys();
    const res = await upload(s.access, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'x.svg');
    assert.equal(res.statusCode, 400);
    assert.deepEqual(await keys(), before);
  });

  describe('with S3_PRESIGNED_REDIRECT', () => {
    /** A lesson with a video uploaded through the API, and the signed URL its owner is given. */
    const lessonWithVideo = async () => {
      const course = await createCourse(redirecting, { is_published: true });
      const video = samples.mp4();
      const form = multipart(
        { course: course.id, title: 'Intro' },
        { video: { filename: 'intro.mp4', contentType: 'video/mp4', data: video } },
      );
      const created = await call(redirecting, 'POST', '/api/lessons/', { as: course.owner, body: form.payload, headers: form.headers });
      assert.equal(created.status, 201, created.text);
      const signed = new URL(created.body.video as string);
      return { video, path: `${signed.pathname}${signed.search}`, signed };
    };

    it('answers a signed lesson video with a private, short-lived redirect to the store; following it gets the bytes, ranges too', async () => {
      const { video, path: signedPath } = await lessonWithVideo();

      const res = await call(redirecting, 'GET', signedPath);
      assert.equal(res.status, 307);
      assert.equal(res.text, '');
      const location = new URL(String(res.headers.location));
      assert.equal(location.origin, endpoint, 'the bytes come from the store, not from the API');
      assert.ok(Number(location.searchParams.get('X-Amz-Expires')) <= 120, 'never longer than S3_PRESIGNED_TTL');
      assert.ok(location.searchParams.get('X-Amz-Signature'));
      assert.match(String(res.headers['cache-control']), /^private, max-age=\d+$/);
      assert.ok(
        Number(/max-age=(\d+)/.exec(String(res.headers['cache-control']))?.[1]) <= 60,
        'kept for at most half the life of the presigned URL',
      );

      // A client following the redirect, as a browser or a <video> element does.
      const whole = await fetch(`${redirectingUrl}${signedPath}`);
      assert.equal(whole.status, 200);
      assert.equal(whole.url.startsWith(endpoint), true);
      assert.equal(whole.headers.get('content-type'), 'video/mp4');
      assert.match(String(whole.headers.get('cache-control')), /^private, max-age=\d+$/);
      assert.deepEqual(Buffer.from(await whole.arrayBuffer()), video);

      const part = await fetch(`${redirectingUrl}${signedPath}`, { headers: { range: 'bytes=4-11' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 4-11/${video.length}`);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), video.subarray(4, 12));

      const head = await fetch(`${redirectingUrl}${signedPath}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(video.length));
    });

    it('refuses a missing, altered or expired signature with no redirect; public media is still streamed', async () => {
      const { signed } = await lessonWithVideo();
      const altered = new URL(signed);
      altered.searchParams.set('signature', 'A'.repeat(43));
      const expired = new URL(signed);
      expired.searchParams.set('expires', '1000000000');
      for (const url of [signed.pathname, `${altered.pathname}${altered.search}`, `${expired.pathname}${expired.search}`]) {
        const res = await call(redirecting, 'GET', url);
        assert.equal(res.status, 403, url);
        assert.equal(res.headers.location, undefined);
        assert.ok(res.body.detail);
      }
      const guessed = await call(redirecting, 'GET', '/media/videos/../secret.mp4');
      assert.equal(guessed.status, 404);
      assert.equal(guessed.headers.location, undefined);

      const s = await createStudent(redirecting);
      const form = multipart({}, { profile_image: { filename: 'a.png', contentType: 'image/png', data: await samples.png() } });
      const profile = await call(redirecting, 'PATCH', '/api/profile/', { as: s, body: form.payload, headers: form.headers });
      assert.equal(profile.status, 200, profile.text);
      const image = await call(redirecting, 'GET', new URL(profile.body.profile_image as string).pathname);
      assert.equal(image.status, 200);
      assert.equal(image.headers['content-type'], 'image/png');
      assert.equal(image.headers.location, undefined);
    });
  });
});
