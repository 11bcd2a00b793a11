import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { nowIso } from '../../src/shared/time.js';
import type { TestUser } from '../helpers/factories.js';
import { createInstructor, createAdmin, createCategory, createCourse } from '../helpers/factories.js';
import { call, multipart } from '../helpers/http.js';
import { png, jpegWithGps, mediaFiles } from '../helpers/media.js';

const IMAGE_ERROR = { thumbnail: ['Upload a valid image: JPEG, PNG, WebP or GIF.'] };

describe('course thumbnails', () => {
  let app: TestApp;
  let owner: TestUser;
  let categoryId: number;

  const fields = (overrides: Record<string, string> = {}) => ({
    title: 'Photography 101',
    description: 'Light',
    price: '19.99',
    category: String(categoryId),
    ...overrides,
  });
  const send = async (method: 'POST' | 'PATCH' | 'PUT', url: string, user: TestUser, form: ReturnType<typeof multipart>) => {
    const res = await app.inject({ method, url, headers: { ...user.headers, ...form.headers }, payload: form.payload });
    return { status: res.statusCode, body: res.json() };
  };
  const upload = (data: Buffer, filename = 'photo.jpg', contentType = 'image/jpeg', overrides: Record<string, string> = {}) =>
    send('POST', '/api/courses/', owner, multipart(fields(overrides), { thumbnail: { filename, contentType, data } }));
  /** The storage key behind a thumbnail URL. */
  const keyOf = (url: string) => new URL(url).pathname.replace(/^\/media\//, '');
  const stored = (url: string) => path.join(app.mediaRoot, keyOf(url));
  const courseCount = async () =>
    Number(
      (
        await app.database.db
          .selectFrom('courses')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  before(async () => {
    app = await buildTestApp();
    owner = await createInstructor(app);
    categoryId = (await createCategory(app)).id;
  });
  after(() => app.close());

  it('accepts a multipart course with a JPEG and strips its EXIF and GPS', async () => {
    const original = await jpegWithGps();
    const before = await sharp(original).metadata();
    assert.ok(before.exif, 'the fixture carries EXIF');
    assert.match(before.exif.toString('latin1'), /SpyCam/);

    const res = await upload(original, 'holiday.jpg', 'image/jpeg', { is_published: 'true' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.price, '19.99');
    assert.equal(res.body.is_published, true);
    assert.equal(res.body.category.id, categoryId);
    assert.match(res.body.thumbnail, /^http:\/\/[^/]+\/media\/thumbnails\/[\w-]+\.jpg$/);
    assert.doesNotMatch(res.body.thumbnail, /holiday/, 'the server chooses the name');

    const bytes = readFileSync(stored(res.body.thumbnail));
    const after = await sharp(bytes).metadata();
    assert.equal(after.format, 'jpeg');
    assert.equal(after.exif, undefined, 'no EXIF block at all, so no GPS');
    assert.doesNotMatch(bytes.toString('latin1'), /SpyCam|Tracker 9000/);
    assert.deepEqual([after.width, after.height], [before.width, before.height]);
  });

  it('serves the thumbnail publicly with its type and nosniff', async () => {
    const created = await upload(await png(), 'pic.png', 'image/png');
    assert.equal(created.status, 201);
    assert.match(created.body.thumbnail, /\.png$/);
    const res = await app.inject({ method: 'GET', url: new URL(created.body.thumbnail as string).pathname });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'image/png');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  it('judges WebP and GIF by their bytes, whatever the name and declared type say', async () => {
    const webp = await sharp(await png())
      .webp()
      .toBuffer();
    const gif = await sharp(await png())
      .gif()
      .toBuffer();
    const asWebp = await upload(webp, 'looks-like.gif', 'image/gif');
    assert.equal(asWebp.status, 201, JSON.stringify(asWebp.body));
    assert.match(asWebp.body.thumbnail, /\.webp$/);
    const asGif = await upload(gif, 'thing.bin', 'application/octet-stream');
    assert.equal(asGif.status, 201, JSON.stringify(asGif.body));
    assert.match(asGif.body.thumbnail, /\.gif$/);
  });

  describe('refused files change nothing', () => {
    const refusals: [string, () => Promise<Buffer>, string, string][] = [
      [
        'an SVG',
        async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        'logo.svg',
        'image/svg+xml',
      ],
      [
        'an HTML page',
        async () => Buffer.from('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>'),
        'page.jpg',
        'image/jpeg',
      ],
      ['a renamed script', async () => Buffer.from('#!/bin/sh\nrm -rf / --no-preserve-root\n'), 'photo.jpg', 'image/jpeg'],
      ['a truncated JPEG', async () => (await jpegWithGps(400, 300)).subarray(0, 600), 'cut.jpg', 'image/jpeg'],
      ['a PDF', async () => Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF'), 'doc.png', 'image/png'],
    ];
    for (const [name, data, filename, contentType] of refusals) {
      it(`${name} is a 400 on the field, with no file and no row left`, async () => {
        const files = mediaFiles(app.mediaRoot);
        const rows = await courseCount();
        const res = await upload(await data(), filename, contentType);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.deepEqual(res.body, IMAGE_ERROR);
        assert.deepEqual(mediaFiles(app.mediaRoot), files);
        assert.equal(await courseCount(), rows);
      });
    }

    it('a good image with a bad field leaves no file behind', async () => {
      const files = mediaFiles(app.mediaRoot);
      const res = await upload(await png(), 'ok.png', 'image/png', { price: '-5' });
      assert.equal(res.status, 400);
      assert.deepEqual(Object.keys(res.body), ['price']);
      assert.deepEqual(mediaFiles(app.mediaRoot), files);
    });

    it('a thumbnail sent by someone who may not edit the course leaves no file behind', async () => {
      const course = await createCourse(app, { instructor: owner, category_id: categoryId });
      const intruder = await createInstructor(app);
      const files = mediaFiles(app.mediaRoot);
      const res = await send(
        'PATCH',
        `/api/courses/${course.id}/`,
        intruder,
        multipart({}, { thumbnail: { filename: 'x.png', contentType: 'image/png', data: await png() } }),
      );
      assert.equal(res.status, 403);
      assert.deepEqual(mediaFiles(app.mediaRoot), files);
    });

    it('a text value for the file field is refused', async () => {
      const res = await send('POST', '/api/courses/', owner, multipart({ ...fields(), thumbnail: 'http://evil.example/x.jpg' }));
      assert.equal(res.status, 400);
      assert.deepEqual(Object.keys(res.body), ['thumbnail']);
    });
  });

  it('replacing a thumbnail removes the old file; clearing it removes the file too', async () => {
    const created = await upload(await png(), 'a.png', 'image/png');
    const first = stored(created.body.thumbnail as string);
    assert.ok(existsSync(first));
    const id = created.body.id as number;

    const replaced = await send(
      'PATCH',
      `/api/courses/${id}/`,
      owner,
      multipart({}, { thumbnail: { filename: 'b.jpg', contentType: 'image/jpeg', data: await jpegWithGps() } }),
    );
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    const second = stored(replaced.body.thumbnail as string);
    assert.notEqual(second, first);
    assert.ok(existsSync(second));
    assert.equal(existsSync(first), false, 'the old file is gone');

    const untouched = await call(app, 'PATCH', `/api/courses/${id}/`, { token: owner.access, body: { title: 'Kept picture' } });
    assert.equal(untouched.body.thumbnail, replaced.body.thumbnail, 'a PATCH without the field keeps it');

    const cleared = await call(app, 'PATCH', `/api/courses/${id}/`, { token: owner.access, body: { thumbnail: null } });
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal(cleared.body.thumbnail, null);
    assert.equal(existsSync(second), false);

    const again = await send(
      'PUT',
      `/api/courses/${id}/`,
      owner,
      multipart(fields(), { thumbnail: { filename: 'c.png', contentType: 'image/png', data: await png() } }),
    );
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const third = stored(again.body.thumbnail as string);
    const emptied = await send('PATCH', `/api/courses/${id}/`, owner, multipart({ thumbnail: '' }));
    assert.equal(emptied.status, 200, JSON.stringify(emptied.body));
    assert.equal(emptied.body.thumbnail, null, 'an empty form value clears, as a browser form sends it');
    assert.equal(existsSync(third), false);
  });

  it('a deleted course takes its thumbnail and its lessons’ files with it', async () => {
    const created = await upload(await png(), 'a.png', 'image/png');
    const id = created.body.id as number;
    const thumbnail = stored(created.body.thumbnail as string);
    const video = 'videos/0b7e3c1e-9a4f-4c59-8f00-000000000001.mp4';
    const attachment = 'attachments/0b7e3c1e-9a4f-4c59-8f00-000000000002.pdf';
    await app.services.storage.put(video, randomBytes(64), 'video/mp4');
    await app.services.storage.put(attachment, Buffer.from('%PDF-1.4'), 'application/pdf');
    await app.database.db
      .insertInto('lessons')
      .values({
        course_id: id,
        title: 'One',
        content: '',
        position: 1,
        duration: 10,
        is_preview: false,
        video,
        attachment,
        created_at: nowIso(),
        updated_at: nowIso(),
      })
      .execute();
    assert.ok([thumbnail, path.join(app.mediaRoot, video), path.join(app.mediaRoot, attachment)].every((f) => existsSync(f)));

    const res = await call(app, 'DELETE', `/api/courses/${id}/`, { token: owner.access });
    assert.equal(res.status, 204);
    for (const file of [thumbnail, path.join(app.mediaRoot, video), path.join(app.mediaRoot, attachment)]) {
      assert.equal(existsSync(file), false, file);
    }
    const lessons = await app.database.db.selectFrom('lessons').select('id').where('course_id', '=', id).execute();
    assert.deepEqual(lessons, []);
  });

  it('an admin deleting a course removes its files as well', async () => {
    const admin = await createAdmin(app);
    const created = await upload(await png(), 'a.png', 'image/png');
    const res = await call(app, 'DELETE', `/api/courses/${created.body.id as number}/`, { token: admin.access });
    assert.equal(res.status, 204);
    assert.equal(existsSync(stored(created.body.thumbnail as string)), false);
  });
});

describe('course thumbnails over the size limit', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp({ THUMBNAIL_MAX_BYTES: '4096' });
  });
  after(() => app.close());

  it('is a 413 with no file and no row left', async () => {
    const owner = await createInstructor(app);
    const category = await createCategory(app);
    const noise = await sharp(randomBytes(128 * 128 * 3), { raw: { width: 128, height: 128, channels: 3 } })
      .png()
      .toBuffer();
    assert.ok(noise.length > 4096);
    const form = multipart(
      { title: 'Big', description: '', price: '1', category: String(category.id) },
      { thumbnail: { filename: 'big.png', contentType: 'image/png', data: noise } },
    );
    const res = await app.inject({
      method: 'POST',
      url: '/api/courses/',
      headers: { ...owner.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(res.statusCode, 413, res.body);
    assert.ok(res.json().detail);
    assert.deepEqual(mediaFiles(app.mediaRoot), []);
    assert.deepEqual(await app.database.db.selectFrom('courses').select('id').execute(), []);
    const small = multipart(
      { title: 'Small', description: '', price: '1', category: String(category.id) },
      { thumbnail: { filename: 's.png', contentType: 'image/png', data: await png(8, 8) } },
    );
    const ok = await app.inject({
      method: 'POST',
      url: '/api/courses/',
      headers: { ...owner.headers, ...small.headers },
      payload: small.payload,
    });
    assert.equal(ok.statusCode, 201, ok.body);
  });
});
