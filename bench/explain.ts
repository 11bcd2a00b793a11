/**
 * The query plans of the catalog on a generated catalog, in SQLite and PostgreSQL: the exact
 * statements the courses repository compiles for a search and for filtered, ordered pages,
 * with EXPLAIN QUERY PLAN (SQLite) and EXPLAIN ANALYZE (PostgreSQL), and median timings.
 *
 *   node --import tsx bench/explain.ts [--courses 100000] [--pg postgres://postgres@127.0.0.1:5432/postgres] > docs/catalog-query-plans.md
 *
 * Both databases are created fresh (a temporary SQLite file, a new PostgreSQL database) and
 * removed afterwards. Without --pg (or TEST_DATABASE_URL) only SQLite is explained.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CompiledQuery, sql } from 'kysely';
import type { Compilable, Kysely } from 'kysely';
import pg from 'pg';
import { createDatabase } from '../src/db/index.js';
import type { Database } from '../src/db/index.js';
import { migrateToLatest } from '../src/db/migrator.js';
import type { DB } from '../src/db/types.js';
import * as courses from '../src/modules/courses/repository.js';
import type { CourseFilters, CourseSort } from '../src/modules/courses/repository.js';
import { searchWords } from '../src/modules/courses/search.js';
import { pageRequest } from '../src/shared/pagination.js';
import type { PageRequest } from '../src/shared/pagination.js';
import { DEFAULT_SIZE, generateDataset } from './generate.js';
import { createProgress } from './progress.js';

const { values: args } = parseArgs({
  options: {
    courses: { type: 'string', default: '100000' },
    pg: { type: 'string', default: process.env.TEST_DATABASE_URL },
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '25' },
  },
});
const COURSES = Number(args.courses);
/** As CoursesService keeps for a ranked search. */
const RANKED_WINDOW = 500;
const RUNS = Number(args.runs);
/** The catalog at full size; the rest of the data set small, since these plans read courses. */
const SIZE = {
  ...DEFAULT_SIZE,
  courses: COURSES,
  students: 2_000,
  enrollments: 10_000,
  reviews: Math.min(COURSES, 60_000),
  lessonCourses: 100,
  lessonsPerCourse: 3,
};

interface Case {
  title: string;
  request: string;
  statements: { label: string; query: Compilable }[];
}

/** What the courses service asks the repository for on these requests (see CoursesService.list). */
async function cases(db: Kysely<DB>): Promise<Case[]> {
  const newestFirst: CourseSort['ordering'] = [{ column: 'created_at', direction: 'desc' }];
  const category = await db.selectFrom('categories').select(['id', 'slug']).orderBy('id').offset(3).limit(1).executeTakeFirstOrThrow();
  const page = (n: number): PageRequest => pageRequest({ page: String(n) });
  const published = (extra: CourseFilters = {}): CourseFilters => ({ isPublished: true, ...extra });
  const pageOf = (filters: CourseFilters, sort: CourseSort, request: PageRequest) => courses.pageQuery(db, filters, sort, request);

  const search = published({ searchWords: searchWords('python') });
  const twoWords = published({ searchWords: searchWords('python test') });
  const filtered = published({ categoryId: category.id, minPriceCents: 1000 });
  const byPrice = published({ categoryId: category.id });
  const ranked: CourseSort = { ranked: true, ordering: newestFirst };
  const window = await courses.firstIds(db, search, ranked, RANKED_WINDOW);
  return [
    {
      title: 'Search, best match first',
      request: 'GET /api/courses/?search=python',
      statements: [
        { label: 'count (cached afterwards)', query: courses.countQuery(db, search) },
        {
          label: `ranking: the first ${RANKED_WINDOW} ids (cached afterwards)`,
          query: courses.firstIdsQuery(db, search, ranked, RANKED_WINDOW),
        },
        { label: 'the page’s items, by id (every request)', query: courses.itemsByIdsQuery(db, window.slice(0, 10)) },
        { label: 'a page beyond the cached window (page 60)', query: pageOf(search, ranked, page(60)) },
      ],
    },
    {
      title: 'Search with two terms',
      request: 'GET /api/courses/?search=python%20test',
      statements: [
        { label: 'count (cached afterwards)', query: courses.countQuery(db, twoWords) },
        {
          label: `ranking: the first ${RANKED_WINDOW} ids (cached afterwards)`,
          query: courses.firstIdsQuery(db, twoWords, ranked, RANKED_WINDOW),
        },
      ],
    },
    {
      title: 'Filtered and ordered page',
      request: `GET /api/courses/?category=${category.slug}&min_price=10&ordering=-average_rating&page=3`,
      statements: [
        { label: 'count (cached afterwards)', query: courses.countQuery(db, filtered) },
        { label: 'page', query: pageOf(filtered, { ranked: false, ordering: [{ column: 'average_rating', direction: 'desc' }] }, page(3)) },
      ],
    },
    {
      title: 'Category, ordered by price, page 3 (the benchmark’s "category" request)',
      request: `GET /api/courses/?category=${category.slug}&ordering=price&page=3`,
      statements: [
        { label: 'count: the category counter (cached afterwards)', query: courses.countPublishedQuery(db, category.id) },
        { label: 'page', query: pageOf(byPrice, { ranked: false, ordering: [{ column: 'price_cents', direction: 'asc' }] }, page(3)) },
      ],
    },
    {
      title: 'The catalog, page 1 (default ordering, newest first)',
      request: 'GET /api/courses/',
      statements: [
        { label: 'count: the category counters (cached afterwards)', query: courses.countPublishedQuery(db) },
        { label: 'page', query: pageOf(published(), { ranked: false, ordering: newestFirst }, page(1)) },
      ],
    },
  ];
}

/** SQLite's plan rows as the indented tree the sqlite3 shell prints. */
function sqliteTree(rows: { id: number; parent: number; detail: string }[]): string {
  const depth = new Map<number, number>([[0, -1]]);
  return rows
    .map((row) => {
      const level = (depth.get(row.parent) ?? -1) + 1;
      depth.set(row.id, level);
      return `${'   '.repeat(level)}${row.detail}`;
    })
    .join('\n');
}

async function explain(database: Database, compiled: CompiledQuery): Promise<string> {
  const { db } = database;
  if (database.dialect === 'sqlite') {
    const result = await db.executeQuery<{ id: number; parent: number; detail: string }>(
      CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
    );
    return sqliteTree(result.rows);
  }
  const result = await db.executeQuery<{ 'QUERY PLAN': string }>(
    CompiledQuery.raw(`explain (analyze, buffers) ${compiled.sql}`, [...compiled.parameters]),
  );
  return result.rows.map((r) => r['QUERY PLAN']).join('\n');
}

async function medianMs(database: Database, compiled: CompiledQuery): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await database.db.executeQuery(compiled);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function report(name: string, database: Database): Promise<string> {
  const progress = createProgress();
  await migrateToLatest(database.db);
  const generated = await generateDataset(database.db, SIZE, { seed: Number(args.seed), progress });
  if (database.dialect === 'postgres') await sql`vacuum analyze`.execute(database.db);
  const { db } = database;
  const count = async (where: 'all' | 'published') => {
    let query = db.selectFrom('courses').select((eb) => eb.fn.countAll<number>().as('n'));
    if (where === 'published') query = query.where('is_published', '=', true);
    return Number((await query.executeTakeFirstOrThrow()).n);
  };
  const out: string[] = [
    `## ${name}`,
    '',
    `${(await count('all')).toLocaleString('en')} courses (${(await count('published')).toLocaleString('en')} published), generated in ${generated.seconds.toFixed(0)} s.`,
    '',
  ];
  for (const c of await cases(db)) {
    out.push(`### ${c.title}`, '', `\`${c.request}\``, '');
    for (const { label, query } of c.statements) {
      const compiled = query.compile();
      const plan = await explain(database, compiled);
      const ms = await medianMs(database, compiled);
      out.push(
        `**${label}** — median ${ms.toFixed(2)} ms over ${RUNS} runs`,
        '',
        '```sql',
        compiled.sql,
        '```',
        '',
        `parameters: \`${JSON.stringify(compiled.parameters)}\``,
        '',
        '```',
        plan,
        '```',
        '',
      );
    }
  }
  return out.join('\n');
}

async function main() {
  const sections: string[] = [
    '# Catalog query plans',
    '',
    `Generated by \`node --import tsx bench/explain.ts --courses ${COURSES}${args.pg ? ' --pg postgres://…' : ''}\` on a fresh database of each kind, filled by`,
    "the benchmark's generator (bench/generate.ts) through Kysely, so migration 0002's triggers built the search",
    'index and the category counters. The SQL is what the courses repository compiles (`.compile()`) for the',
    'requests shown; SQLite plans are `EXPLAIN QUERY PLAN`, PostgreSQL plans are `EXPLAIN (ANALYZE, BUFFERS)`.',
    '',
  ];

  const dir = mkdtempSync(path.join(tmpdir(), 'lp-explain-'));
  const sqlite = createDatabase(`sqlite:${path.join(dir, 'catalog.sqlite3')}`);
  try {
    sections.push(await report('SQLite', sqlite));
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }

  if (args.pg) {
    const name = `lp_explain_${process.pid}`;
    const admin = new pg.Client({ connectionString: args.pg });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(args.pg);
    url.pathname = `/${name}`;
    const postgres = createDatabase(url.toString());
    try {
      const version = await sql<{ v: string }>`select current_setting('server_version') as v`.execute(postgres.db);
      sections.push(await report(`PostgreSQL ${version.rows[0]?.v ?? ''}`, postgres));
    } finally {
      await postgres.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }
  process.stdout.write(`${sections.join('\n')}\n`);
}

await main();
