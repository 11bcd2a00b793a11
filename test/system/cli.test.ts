import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDatabase } from '../../src/db/index.js';
import { freshDatabaseUrl, onPostgres } from '../helpers/app.js';

const root = path.resolve(import.meta.dirname, '..', '..');

function cli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(root, 'src/cli.ts'), ...args], {
    env: { ...process.env, NODE_ENV: 'development', ...env },
    encoding: 'utf8',
    input: '',
  });
  return { code: result.status, out: result.stdout + result.stderr };
}

describe('command line', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'lp-cli-'));
  let dropDb: (() => Promise<void>) | undefined;
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    await dropDb?.();
  });

  it('migrates, creates admins from --password or ADMIN_PASSWORD, and refuses bad input', async () => {
    const fresh = await freshDatabaseUrl();
    dropDb = fresh.drop;
    const url = onPostgres ? fresh.url : `sqlite:${path.join(work, 'db.sqlite3')}`;
    const env = { DATABASE_URL: url, MEDIA_ROOT: path.join(work, 'media') };

    const migrate = cli(['migrate'], env);
    assert.equal(migrate.code, 0, migrate.out);
    assert.match(migrate.out, /Applied: 0001_initial/);
    assert.match(cli(['migrate'], env).out, /up to date/);

    const withFlag = cli(['create-admin', '--username', 'root', '--email', 'root@example.com', '--password', 'Granite-Harbor-77'], env);
    assert.equal(withFlag.code, 0, withFlag.out);
    assert.match(withFlag.out, /Admin "root" created/);

    const fromEnv = cli(['create-admin', '--username', 'boss', '--email', 'boss@example.com'], {
      ...env,
      ADMIN_PASSWORD: 'Granite-Harbor-78',
    });
    assert.equal(fromEnv.code, 0, fromEnv.out);

    const noPassword = cli(['create-admin', '--username', 'nopass', '--email', 'nopass@example.com'], env);
    assert.notEqual(noPassword.code, 0);
    assert.match(noPassword.out, /No password given/);

    const duplicate = cli(['create-admin', '--username', 'ROOT', '--email', 'other@example.com', '--password', 'Granite-Harbor-77'], env);
    assert.notEqual(duplicate.code, 0);
    assert.match(duplicate.out, /username: A user with that username already exists/);

    const weak = cli(['create-admin', '--username', 'weak', '--email', 'weak@example.com', '--password', '12345678'], env);
    assert.notEqual(weak.code, 0);
    assert.match(weak.out, /password:/);

    const database = createDatabase(url);
    try {
      const admins = await database.db
        .selectFrom('users')
        .select(['username', 'role', 'password_hash'])
        .where('role', '=', 'admin')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        admins.map((a) => a.username),
        ['root', 'boss'],
      );
      assert.ok(admins.every((a) => a.password_hash.startsWith('$argon2id$')));
    } finally {
      await database.close();
    }
  });

  it('prints usage for an unknown command', () => {
    const res = cli(['frobnicate'], { DATABASE_URL: `sqlite:${path.join(work, 'x.sqlite3')}` });
    assert.equal(res.code, 2);
    assert.match(res.out, /Usage/);
  });
});
