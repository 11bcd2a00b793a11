import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { freshDatabaseUrl, onPostgres } from '../helpers/app.js';
import { createCourse, createLessons, createStudent } from '../helpers/factories.js';
import { call } from '../helpers/http.js';

/**
 * The write mix (POST/DELETE /api/lessons/{id}/complete/) is bound by round trips on
 * PostgreSQL: every statement of the transaction holds the lesson and enrollment locks for
 * one more turn of the server's event loop. These are the statements a completion may send
 * (bench/write-path.ts measures them on a benchmark data set), with the answers they give.
 */
describe('statements of a lesson completion', () => {
  let app: FastifyInstance;
  let drop: () => Promise<void>;
  let mediaRoot: string;
  let sent: string[] | null = null;

  before(async () => {
    const fresh = await freshDatabaseUrl();
    drop = fresh.drop;
    mediaRoot = mkdtempSync(path.join(tmpdir(), 'lp-media-'));
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: fresh.url, MEDIA_ROOT: mediaRoot, RATE_LIMIT_USER: 'off' });
    const database = createDatabase(config.databaseUrl, { observe: (text) => sent?.push(text) });
    await migrateToLatest(database.db);
    app = await buildApp(config, { database, logger: false, webhooks: { autoStart: false } });
    await app.ready();
  });
  after(async () => {
    await app?.close();
    rmSync(mediaRoot, { recursive: true, force: true });
    await drop?.();
  });

  /** The request's answer and the statements it sent, each reduced to its first words. */
  async function traced(method: 'POST' | 'DELETE', lessonId: number, as: Awaited<ReturnType<typeof createStudent>>) {
    sent = [];
    const res = await call(app, method, `/api/lessons/${lessonId}/complete/`, { as });
    const statements = sent.map((s) => s.replace(/\s+/g, ' ').trim());
    sent = null;
    assert.equal(res.status, 200, res.text);
    return { body: res.body, statements };
  }

  it('marks, re-marks, unmarks and re-unmarks with the same answers, in four statements on PostgreSQL (five with the event)', async () => {
    const course = await createCourse(app);
    const [first] = await createLessons(app, course.id, 2);
    const student = await createStudent(app);
    assert.equal((await call(app, 'POST', `/api/enroll/${course.id}/`, { as: student })).status, 201);

    const marked = await traced('POST', first!.id, student);
    assert.deepEqual(marked.body, { progress: 50, completed_lessons: 1, total_lessons: 2, completed_at: null });
    const again = await traced('POST', first!.id, student);
    assert.deepEqual(again.body, marked.body);
    const unmarked = await traced('DELETE', first!.id, student);
    assert.deepEqual(unmarked.body, { progress: 0, completed_lessons: 0, total_lessons: 2, completed_at: null });
    const unmarkedAgain = await traced('DELETE', first!.id, student);
    assert.deepEqual(unmarkedAgain.body, unmarked.body);
    const events = await app.database.db.selectFrom('events').select(['type', 'data']).where('type', '=', 'lesson.completed').execute();
    assert.deepEqual(
      events.map((e) => JSON.parse(e.data)),
      [{ lesson: { id: first!.id, course: course.id }, student: student.user.id, progress: 50 }],
    );

    if (!onPostgres) return;
    // begin; facts and both locks; the write with its recount; (the event;) commit.
    const shape = (statements: string[]) => statements.map((s) => s.split(' ').slice(0, 2).join(' '));
    assert.deepEqual(shape(marked.statements), ['begin', 'select "l"."id",', 'with "changed"', 'insert into', 'commit']);
    assert.match(marked.statements[1]!, /for key share of "l" for update of "e"$/);
    assert.match(marked.statements[3]!, /^insert into "events"/);
    for (const { statements } of [again, unmarked, unmarkedAgain])
      assert.deepEqual(shape(statements), ['begin', 'select "l"."id",', 'with "changed"', 'commit']);
  });

  it('answers a caller who is not enrolled 403 and a missing lesson 404, without writing', async () => {
    const course = await createCourse(app);
    const [lesson] = await createLessons(app, course.id, 1);
    const stranger = await createStudent(app);
    const res = await call(app, 'POST', `/api/lessons/${lesson!.id}/complete/`, { as: stranger });
    assert.equal(res.status, 403);
    assert.equal((await call(app, 'POST', `/api/lessons/999999/complete/`, { as: stranger })).status, 404);
    const completions = await app.database.db.selectFrom('lesson_completions').select('id').where('lesson_id', '=', lesson!.id).execute();
    assert.deepEqual(completions, []);
  });
});
