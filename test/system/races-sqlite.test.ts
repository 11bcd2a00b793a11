import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { createDatabase } from '../../src/db/index.js';
import type { Database } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { writeTransaction } from '../../src/db/transaction.js';
import { onPostgres } from '../helpers/app.js';

/**
 * Another process on the same SQLite file (the CLI, a second server) is a writer Kysely's
 * one-connection queue knows nothing about. A second better-sqlite3 connection plays it.
 */
describe('SQLite write transactions against another connection', { skip: onPostgres && 'SQLite only' }, () => {
  let dir: string;
  let database: Database;
  let other: SQLite.Database;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lp-sqlite-'));
    const file = path.join(dir, 'db.sqlite3');
    database = createDatabase(`sqlite:${file}`);
    await migrateToLatest(database.db);
    other = new SQLite(file);
    other.pragma('busy_timeout = 0');
  });
  after(async () => {
    other.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const otherWrites = (name: string): unknown => {
    try {
      other.prepare('insert into categories (name, slug, description) values (?, ?, ?)').run(name, name, '');
      return null;
    } catch (error) {
      return (error as { code?: unknown }).code;
    }
  };

  it('a deferred transaction that read before the other connection committed fails on its write (the hazard)', async () => {
    const attempt = database.db.transaction().execute(async (trx) => {
      await trx.selectFrom('categories').select('id').execute();
      assert.equal(otherWrites('first'), null);
      await trx.insertInto('categories').values({ name: 'mine1', name_key: 'mine1', slug: 'mine1', description: '' }).execute();
    });
    await assert.rejects(attempt, (error: { code?: string }) => error.code === 'SQLITE_BUSY_SNAPSHOT');
  });

  it('writeTransaction holds the write lock from BEGIN: the other writer waits (here: gives up), ours commits', async () => {
    const result = await writeTransaction(database.db, async (trx) => {
      await trx.selectFrom('categories').select('id').execute();
      assert.equal(otherWrites('second'), 'SQLITE_BUSY');
      await trx.insertInto('categories').values({ name: 'mine2', name_key: 'mine2', slug: 'mine2', description: '' }).execute();
      return 'committed';
    });
    assert.equal(result, 'committed');
    const names = (await database.db.selectFrom('categories').select('name').execute()).map((r) => r.name);
    assert.ok(names.includes('mine2'));
    assert.ok(!names.includes('second'));
  });

  it('writeTransaction rolls back when the work throws', async () => {
    await assert.rejects(
      writeTransaction(database.db, async (trx) => {
        await trx.insertInto('categories').values({ name: 'gone', name_key: 'gone', slug: 'gone', description: '' }).execute();
        throw new Error('boom');
      }),
      /boom/,
    );
    const row = await database.db.selectFrom('categories').select('id').where('name', '=', 'gone').executeTakeFirst();
    assert.equal(row, undefined);
    // The connection is usable afterwards (no transaction left open).
    assert.equal(otherWrites('after'), null);
  });
});
