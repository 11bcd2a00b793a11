import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDatabase } from '../../src/db/index.js';
import type { Database } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { preparedQuery } from '../../src/db/prepared.js';
import { freshDatabaseUrl } from '../helpers/app.js';

/** preparedQuery: built and compiled once, the same statement and rows as the query builder, on both databases. */
let database: Database;
let drop: () => Promise<void>;
const sent: string[] = [];

before(async () => {
  const fresh = await freshDatabaseUrl();
  drop = fresh.drop;
  database = createDatabase(fresh.url, { observe: (text) => sent.push(text) });
  await migrateToLatest(database.db);
  await database.db
    .insertInto('categories')
    .values([
      { name: 'Alpha', name_key: 'alpha', slug: 'alpha', description: 'first' },
      { name: 'Beta', name_key: 'beta', slug: 'beta', description: 'second' },
      { name: 'Gamma', name_key: 'gamma', slug: 'gamma', description: 'third' },
    ])
    .execute();
});

after(async () => {
  await database?.close();
  await drop?.();
});

describe('preparedQuery', () => {
  const byName = preparedQuery((db, name: string, limit: number) =>
    db.selectFrom('categories').select(['name', 'slug']).where('name', '>=', name).where('slug', '!=', 'zeta').orderBy('name').limit(limit),
  );

  it('answers what the query builder answers, value by value, with the same statement', async () => {
    sent.length = 0;
    for (const [name, limit] of [
      ['Alpha', 2],
      ['Beta', 5],
      ['Gamma', 1],
    ] as const) {
      const built = await database.db
        .selectFrom('categories')
        .select(['name', 'slug'])
        .where('name', '>=', name)
        .where('slug', '!=', 'zeta')
        .orderBy('name')
        .limit(limit)
        .execute();
      assert.deepEqual(await byName(database.db, name, limit), built);
    }
    // Each prepared call sent exactly the text the builder compiled; constants stay in place.
    assert.equal(sent.length, 6);
    for (let i = 0; i < sent.length; i += 2) assert.equal(sent[i + 1], sent[i]);
  });

  it('builds and compiles once, whatever the values', async () => {
    let builds = 0;
    const counted = preparedQuery((db, slug: string) => {
      builds++;
      return db.selectFrom('categories').select('name').where('slug', '=', slug);
    });
    assert.deepEqual(await counted(database.db, 'beta'), [{ name: 'Beta' }]);
    assert.deepEqual(await counted(database.db, 'gamma'), [{ name: 'Gamma' }]);
    assert.deepEqual(await counted(database.db, 'none'), []);
    assert.equal(builds, 1);
  });

  it('compiles a list of values once per length', async () => {
    let builds = 0;
    const bySlugs = preparedQuery((db, ...slugs: string[]) => {
      builds++;
      return db.selectFrom('categories').select('name').where('slug', 'in', slugs).orderBy('name');
    });
    assert.deepEqual(await bySlugs(database.db, 'alpha', 'gamma'), [{ name: 'Alpha' }, { name: 'Gamma' }]);
    assert.deepEqual(await bySlugs(database.db, 'beta', 'none'), [{ name: 'Beta' }]);
    assert.deepEqual(await bySlugs(database.db, 'gamma', 'beta', 'alpha'), [{ name: 'Alpha' }, { name: 'Beta' }, { name: 'Gamma' }]);
    assert.equal(builds, 2);
  });

  it('runs inside a transaction, seeing its uncommitted rows', async () => {
    const bySlug = preparedQuery((db, slug: string) => db.selectFrom('categories').select('name').where('slug', '=', slug));
    await assert.rejects(
      database.db.transaction().execute(async (trx) => {
        await trx.insertInto('categories').values({ name: 'Delta', name_key: 'delta', slug: 'delta', description: '' }).execute();
        assert.deepEqual(await bySlug(trx, 'delta'), [{ name: 'Delta' }]);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.deepEqual(await bySlug(database.db, 'delta'), []);
  });

  it('refuses a builder that puts none of its values in the query', async () => {
    const careless = preparedQuery((db, _slug: string) => db.selectFrom('categories').select('name').where('slug', '=', 'alpha'));
    await assert.rejects(careless(database.db, 'beta'), /used none of its values/);
  });
});
