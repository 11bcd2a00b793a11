import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDatabase } from '../../src/db/index.js';

const root = path.resolve(import.meta.dirname, '..', '..');

function seed(args: string[], env: Record<string, string>) {
  const result = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), path.join(root, 'src/cli.ts'), 'seed-demo', ...args],
    {
      env: { ...process.env, NODE_ENV: 'development', ...env },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('npm run seed-demo', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'lp-seed-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const env = {
    DATABASE_URL: `sqlite:${path.join(work, 'demo.sqlite3')}`,
    MEDIA_ROOT: path.join(work, 'media'),
    PUBLIC_URL: 'http://demo.example',
  };

  it('fills a fresh SQLite database through the services and prints the logins', async () => {
    const first = seed([], env);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /admin +admin +learn-Together-42/);
    assert.match(first.out, /instructor +grace /);
    assert.match(first.out, /student +sam /);

    const database = createDatabase(env.DATABASE_URL);
    try {
      const db = database.db;
      const count = async (table: 'users' | 'categories' | 'courses' | 'lessons' | 'enrollments' | 'reviews' | 'lesson_completions') =>
        Number((await db.selectFrom(table).select(db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      assert.equal(await count('users'), 6);
      assert.equal(await count('categories'), 3);
      assert.equal(await count('courses'), 4);
      assert.ok((await count('lessons')) >= 10);
      assert.ok((await count('enrollments')) >= 5);
      assert.ok((await count('reviews')) >= 3);
      assert.ok((await count('lesson_completions')) >= 5);
      const courses = await db.selectFrom('courses').select(['is_published', 'thumbnail', 'students_count', 'reviews_count']).execute();
      assert.equal(courses.filter((c) => Boolean(c.is_published)).length, 3);
      assert.ok(courses.every((c) => typeof c.thumbnail === 'string'));
      assert.ok(courses.some((c) => c.students_count > 0 && c.reviews_count > 0));
      const instructors = await db.selectFrom('users').select('instructor_status').where('role', '=', 'instructor').execute();
      assert.deepEqual(
        instructors.map((u) => u.instructor_status),
        ['approved', 'approved'],
      );
      const lessons = await db.selectFrom('lessons').select(['video', 'attachment']).execute();
      assert.ok(lessons.every((l) => typeof l.video === 'string'));
      assert.ok(lessons.some((l) => typeof l.attachment === 'string'));
    } finally {
      await database.close();
    }
  });

  it('refuses a database that is not empty, unless --force', () => {
    const again = seed([], env);
    assert.equal(again.code, 1);
    assert.match(again.out, /already has 6 users.*--force/);
    const forced = seed(['--force'], env);
    assert.equal(forced.code, 0, forced.out);
    assert.match(forced.out, /admin_\w+/);
  });
});
