import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createCourse, createLesson } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { mediaFiles } from '../helpers/media.js';

/**
 * The services record the files a change drops in the change's own transaction: when the
 * deletion after the commit does not happen (the process dies, the store fails), the record
 * stays and the sweep finishes it.
 */
describe('durable file cleanup through the services', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  function storedFile(key: string): void {
    const file = path.join(app.mediaRoot, key);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, 'bytes');
  }

  it('a lesson deleted while the store refuses deletions keeps a record, and the sweep removes its files', async () => {
    const course = await createCourse(app);
    const video = 'videos/0b8d3a4e-1111-4222-8333-944455556666.mp4';
    const attachment = 'attachments/0b8d3a4e-1111-4222-8333-944455557777.pdf';
    storedFile(video);
    storedFile(attachment);
    const lesson = await createLesson(app, course.id, { video, attachment });
    const storage = app.services.storage;
    const realDelete = storage.delete.bind(storage);
    storage.delete = async () => {
      throw new Error('store unavailable');
    };
    try {
      const res = await call(app, 'DELETE', `/api/lessons/${lesson.id}/`, { as: course.owner });
      assert.equal(res.status, 204, res.text);
    } finally {
      storage.delete = realDelete;
    }
    assert.deepEqual(mediaFiles(app.mediaRoot), [attachment, video].sort());
    const recorded = await app.database.db.selectFrom('file_deletions').select('key').execute();
    assert.deepEqual(recorded.map((r) => r.key).sort(), [attachment, video].sort());
    const swept = await app.services.files.sweep();
    assert.equal(swept.recorded, 2);
    assert.deepEqual(mediaFiles(app.mediaRoot), []);
    assert.equal((await app.database.db.selectFrom('file_deletions').select('key').execute()).length, 0);
  });

  it('a course thumbnail cleared or a course deleted leaves no file and no record when the store works', async () => {
    const thumbnail = 'thumbnails/0b8d3a4e-1111-4222-8333-944455558888.png';
    storedFile(thumbnail);
    const course = await createCourse(app, { thumbnail });
    const res = await call(app, 'PATCH', `/api/courses/${course.id}/`, { as: course.owner, body: { thumbnail: null } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.thumbnail, null);
    assert.ok(!mediaFiles(app.mediaRoot).includes(thumbnail));
    assert.equal((await app.database.db.selectFrom('file_deletions').select('key').execute()).length, 0);
  });

  it('a rolled-back change records nothing and deletes nothing', async () => {
    const thumbnail = 'thumbnails/0b8d3a4e-1111-4222-8333-944455559999.png';
    storedFile(thumbnail);
    const course = await createCourse(app, { thumbnail });
    // A category that does not exist fails validation: nothing is written, the file stays.
    const res = await call(app, 'PATCH', `/api/courses/${course.id}/`, { as: course.owner, body: { thumbnail: null, category: 999_999 } });
    assert.equal(res.status, 400);
    assert.ok(mediaFiles(app.mediaRoot).includes(thumbnail));
    assert.equal((await app.database.db.selectFrom('file_deletions').select('key').execute()).length, 0);
  });
});
