import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { PASSWORD, createStudent } from '../helpers/factories.js';
import { call, multipart } from '../helpers/http.js';
import { png, mediaFiles } from '../helpers/media.js';

describe('profile', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp({ THUMBNAIL_MAX_BYTES: String(64 * 1024) });
  });
  after(() => app.close());

  it('shows the caller with every contract field', async () => {
    const s = await createStudent(app);
    const res = await call(app, 'GET', '/api/profile/', { token: s.access });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), [
      'bio',
      'date_joined',
      'email',
      'first_name',
      'id',
      'instructor_status',
      'is_active',
      'is_instructor',
      'is_staff',
      'is_student',
      'last_name',
      'profile_image',
      'role',
      'username',
    ]);
  });

  it('updates through PATCH and PUT on both paths; read-only fields stay', async () => {
    const s = await createStudent(app);
    for (const url of ['/api/profile/', '/api/update-profile/']) {
      const res = await call(app, 'PATCH', url, {
        token: s.access,
        body: { first_name: 'Grace', bio: 'Compilers', username: 'hacker', role: 'admin', is_active: false, instructor_status: 'approved' },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.first_name, 'Grace');
      assert.equal(res.body.bio, 'Compilers');
      assert.equal(res.body.username, s.user.username);
      assert.equal(res.body.role, 'student');
      assert.equal(res.body.is_active, true);
      assert.equal(res.body.instructor_status, 'none');
    }
    const put = await call(app, 'PUT', '/api/update-profile/', {
      token: s.access,
      body: { email: `new-${s.user.email}`, last_name: 'Hopper' },
    });
    assert.equal(put.status, 200);
    assert.equal(put.body.email, `new-${s.user.email}`);
    const putWithoutEmail = await call(app, 'PUT', '/api/profile/', { token: s.access, body: { last_name: 'X' } });
    assert.equal(putWithoutEmail.status, 400);
    assert.ok(putWithoutEmail.body.email);
  });

  it('refuses an email in use by another user (ignoring case) and an invalid one', async () => {
    const s = await createStudent(app);
    const other = await createStudent(app);
    const taken = await call(app, 'PATCH', '/api/profile/', { token: s.access, body: { email: other.user.email.toUpperCase() } });
    assert.equal(taken.status, 400);
    assert.ok(taken.body.email);
    const bad = await call(app, 'PATCH', '/api/profile/', { token: s.access, body: { email: 'nope' } });
    assert.equal(bad.status, 400);
    const own = await call(app, 'PATCH', '/api/profile/', { token: s.access, body: { email: s.user.email.toUpperCase() } });
    assert.equal(own.status, 200);
  });

  it('needs authentication', async () => {
    assert.equal((await call(app, 'GET', '/api/profile/')).status, 401);
    assert.equal((await call(app, 'PATCH', '/api/profile/', { body: { bio: 'x' } })).status, 401);
  });

  it('accepts a profile image judged by content, replaces and clears it, removing old files', async () => {
    const s = await createStudent(app);
    const form = multipart(
      { bio: 'with picture' },
      { profile_image: { filename: 'me.txt', contentType: 'text/plain', data: await png() } },
    );
    const res = await app.inject({
      method: 'PATCH',
      url: '/api/profile/',
      headers: { ...form.headers, ...s.headers },
      payload: form.payload,
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.bio, 'with picture');
    assert.match(body.profile_image, /^http:\/\/localhost(:\d+)?\/media\/profile-images\/[0-9a-f-]+\.png$/);
    const firstKey = new URL(body.profile_image).pathname.replace('/media/', '');
    assert.ok(existsSync(path.join(app.mediaRoot, firstKey)));

    const jpeg = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
      .jpeg()
      .toBuffer();
    const form2 = multipart({}, { profile_image: { filename: 'x.png', contentType: 'image/png', data: jpeg } });
    const replaced = await app.inject({
      method: 'PATCH',
      url: '/api/update-profile/',
      headers: { ...form2.headers, ...s.headers },
      payload: form2.payload,
    });
    assert.equal(replaced.statusCode, 200);
    assert.match(replaced.json().profile_image, /\.jpg$/);
    assert.ok(!existsSync(path.join(app.mediaRoot, firstKey)), 'old image removed');

    const cleared = await call(app, 'PATCH', '/api/profile/', { token: s.access, body: { profile_image: null } });
    assert.equal(cleared.status, 200);
    assert.equal(cleared.body.profile_image, null);
    assert.deepEqual(readdirSync(path.join(app.mediaRoot, 'profile-images')), []);
  });

  it('refuses files that are not images, whatever their name or declared type, and keeps nothing', async () => {
    const s = await createStudent(app);
    const before = mediaFiles(app.mediaRoot).length;
    const truncated = (await png()).subarray(0, 40);
    const refused: [string, string, Buffer][] = [
      ['evil.svg', 'image/svg+xml', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')],
      ['page.png', 'image/png', Buffer.from('<!doctype html><html><body>hi</body></html>')],
      ['shell.jpg', 'image/jpeg', Buffer.from('#!/bin/sh\necho pwned\n')],
      ['broken.png', 'image/png', truncated],
    ];
    for (const [filename, contentType, data] of refused) {
      const form = multipart({ bio: 'should not stick' }, { profile_image: { filename, contentType, data } });
      const res = await app.inject({
        method: 'PATCH',
        url: '/api/profile/',
        headers: { ...form.headers, ...s.headers },
        payload: form.payload,
      });
      assert.equal(res.statusCode, 400, `${filename}: ${res.body}`);
      assert.ok(Array.isArray(res.json().profile_image), res.body);
    }
    const profile = await call(app, 'GET', '/api/profile/', { token: s.access });
    assert.equal(profile.body.bio, '');
    assert.equal(mediaFiles(app.mediaRoot).length, before);
  });

  it('refuses an image over the limit with 413 and keeps nothing', async () => {
    const s = await createStudent(app);
    const big = await sharp({ create: { width: 600, height: 600, channels: 3, background: '#f00' } })
      .composite([{ input: Buffer.alloc(600 * 600 * 3, 7), raw: { width: 600, height: 600, channels: 3 } }])
      .png({ compressionLevel: 0 })
      .toBuffer();
    assert.ok(big.length > 64 * 1024);
    const form = multipart({}, { profile_image: { filename: 'big.png', contentType: 'image/png', data: big } });
    const res = await app.inject({
      method: 'PATCH',
      url: '/api/profile/',
      headers: { ...form.headers, ...s.headers },
      payload: form.payload,
    });
    assert.equal(res.statusCode, 413);
    assert.equal(typeof res.json().detail, 'string');
  });

  it('refuses a text value for the file field', async () => {
    const s = await createStudent(app);
    const form = multipart({ profile_image: 'http://evil.example/x.png' });
    const res = await app.inject({
      method: 'PATCH',
      url: '/api/profile/',
      headers: { ...form.headers, ...s.headers },
      payload: form.payload,
    });
    assert.equal(res.statusCode, 400);
    assert.ok(res.json().profile_image);
  });
});

describe('change password', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  it('changes it, keeps this session, revokes the others', async () => {
    const s = await createStudent(app);
    const other = await call(app, 'POST', '/api/login/', { body: { username: s.user.username, password: PASSWORD } });
    const res = await call(app, 'POST', '/api/change-password/', {
      token: s.access,
      body: { old_password: PASSWORD, new_password: 'Quiet-Meadow-913' },
    });
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.detail, 'string');
    assert.equal((await call(app, 'GET', '/api/profile/', { token: s.access })).status, 200);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: other.body.access })).status, 401);
    assert.equal((await call(app, 'POST', '/api/token/refresh/', { body: { refresh: other.body.refresh } })).status, 401);
    assert.equal((await call(app, 'POST', '/api/login/', { body: { username: s.user.username, password: PASSWORD } })).status, 401);
    assert.equal(
      (await call(app, 'POST', '/api/login/', { body: { username: s.user.username, password: 'Quiet-Meadow-913' } })).status,
      200,
    );
  });

  it('refuses a wrong old password on old_password and a weak new one on new_password', async () => {
    const s = await createStudent(app);
    const wrong = await call(app, 'POST', '/api/change-password/', {
      token: s.access,
      body: { old_password: 'nope-nope-nope', new_password: 'Quiet-Meadow-913' },
    });
    assert.equal(wrong.status, 400);
    assert.ok(wrong.body.old_password);
    const weak = await call(app, 'POST', '/api/change-password/', {
      token: s.access,
      body: { old_password: PASSWORD, new_password: '12345678' },
    });
    assert.equal(weak.status, 400);
    assert.ok(weak.body.new_password.length >= 1);
    assert.equal(
      (await call(app, 'POST', '/api/change-password/', { body: { old_password: PASSWORD, new_password: 'Quiet-Meadow-913' } })).status,
      401,
    );
  });
});
