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
import { createStudent } from '../helpers/factories.js';
import { multipart } from '../helpers/http.js';

const BUCKET = 'lp-media';

describe('S3 storage (against an S3-compatible server)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lp-s3-'));
  let server: S3rver;
  let endpoint: string;
  let app: TestApp;
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
    app = await buildTestApp({
      STORAGE: 's3',
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    });
  });
  after(async () => {
    await app?.close();
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
});
