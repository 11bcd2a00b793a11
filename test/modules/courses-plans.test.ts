import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery, sql } from 'kysely';
import type { Compilable } from 'kysely';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import * as repo from '../../src/modules/courses/repository.js';
import type { CourseFilters, CourseOrderColumn, CourseSort } from '../../src/modules/courses/repository.js';
import { pageRequest } from '../../src/shared/pagination.js';
import { createInstructor, createCategory, createCourse } from '../helpers/factories.js';

/**
 * The list's statements find their rows through the catalog's indexes (migration 0002), not by
 * scanning courses: the plan names the index. On PostgreSQL, whose planner rightly prefers a
 * scan and a sort for a table this small, both are disabled for the EXPLAIN.
 */
describe('course list query plans', () => {
  let app: TestApp;
  let categoryId: number;

  const plan = async (query: Compilable): Promise<string> => {
    const compiled = query.compile();
    if (!onPostgres) {
      const rows = await app.database.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
      );
      return rows.rows.map((r) => r.detail).join('\n');
    }
    return app.database.db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      // A table this small is sorted in no time; the question is whether an index can give the order.
      await sql`set local enable_sort = off`.execute(trx);
      const rows = await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]));
      return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
    });
  };
  const page = (filters: CourseFilters, sort: CourseSort) => repo.pageQuery(app.database.db, filters, sort, pageRequest({ page: '2' }));
  const ordered = (column: CourseOrderColumn, direction: 'asc' | 'desc' = 'asc'): CourseSort => ({
    ranked: false,
    ordering: [{ column, direction }],
  });
  const published = (extra: CourseFilters = {}): CourseFilters => ({ isPublished: true, ...extra });

  before(async () => {
    app = await buildTestApp();
    const instructor = await createInstructor(app);
    categoryId = (await createCategory(app)).id;
    for (let i = 0; i < 5; i++) await createCourse(app, { instructor, category_id: categoryId, title: `Python ${i}` });
    // Enough other courses, in several categories and by several instructors, for PostgreSQL's
    // statistics to tell a selective condition from one that holds for most rows.
    const others = [await createInstructor(app), await createInstructor(app)];
    const categories = [(await createCategory(app)).id, (await createCategory(app)).id];
    const rows = Array.from({ length: 2000 }, (_, i) => ({
      title: `Cooking ${i}`,
      description: 'Knives and pans',
      price_cents: i * 10,
      category_id: categories[i % 2]!,
      instructor_id: others[i % 2]!.user.id,
      thumbnail: null,
      is_published: i % 10 !== 0,
      average_rating: null,
      created_at: new Date(Date.UTC(2026, 0, 1 + (i % 28))).toISOString(),
      updated_at: new Date(Date.UTC(2026, 1, 1)).toISOString(),
    }));
    for (let i = 0; i < rows.length; i += 500)
      await app.database.db
        .insertInto('courses')
        .values(rows.slice(i, i + 500))
        .execute();
    // As autovacuum would: statistics, and the GIN index's pending list merged into the index proper.
    if (onPostgres) await sql`vacuum analyze courses`.execute(app.database.db);
  });
  after(() => app.close());

  it('search goes through the full-text index', async () => {
    const filters = published({ searchWords: ['pyth'] });
    const expected = onPostgres ? /courses_search/ : /courses_search VIRTUAL TABLE INDEX/;
    assert.match(await plan(repo.countQuery(app.database.db, filters)), expected);
    assert.match(
      await plan(repo.firstIdsQuery(app.database.db, filters, { ranked: true, ordering: ordered('created_at', 'desc').ordering }, 500)),
      expected,
    );
    assert.doesNotMatch(await plan(page(filters, ordered('price_cents'))), onPostgres ? /Seq Scan on courses/ : /SCAN c\b/);
  });

  const columns: [CourseOrderColumn, string][] = [
    ['created_at', 'created'],
    ['updated_at', 'updated'],
    ['price_cents', 'price'],
    ['title', 'title'],
    ['average_rating', 'rating'],
    ['students_count', 'students'],
    ['reviews_count', 'reviews'],
  ];
  for (const [column, name] of columns) {
    it(`ordering by ${column} walks an index, alone and within a category`, async () => {
      const index = `courses_published_${name}`;
      for (const direction of ['asc', 'desc'] as const) {
        assert.match(await plan(page(published(), ordered(column, direction))), new RegExp(`${index}\\b`), `${column} ${direction}`);
        assert.match(
          await plan(page(published({ categoryId }), ordered(column, direction))),
          new RegExp(`courses_published_category_${name}\\b`),
        );
      }
    });
  }

  it('a price range ordered by something else walks the index of the ordering on SQLite', async () => {
    const text = await plan(page(published({ categoryId, minPriceCents: 1000, maxPriceCents: 5000 }), ordered('average_rating', 'desc')));
    assert.match(text, onPostgres ? /courses_published_category_/ : /courses_published_category_rating/);
    const byPrice = await plan(page(published({ categoryId, minPriceCents: 1000 }), ordered('price_cents')));
    assert.match(byPrice, /courses_published_category_price/);
  });

  it('filters on rating, price and instructor use indexes', async () => {
    assert.match(await plan(repo.countQuery(app.database.db, published({ minRating: 4 }))), /courses_published_rating/);
    assert.match(await plan(repo.countQuery(app.database.db, published({ minPriceCents: 19_000 }))), /courses_published_price/);
    assert.match(await plan(repo.countQuery(app.database.db, published({ isFree: true }))), /courses_published_price/);
    assert.match(
      await plan(repo.countQuery(app.database.db, published({ instructorId: 1 }))),
      /courses_published_instructor|courses_instructor/,
    );
    assert.match(await plan(repo.countQuery(app.database.db, { instructorId: 1 })), /courses_instructor|courses_published_instructor/);
  });
});
