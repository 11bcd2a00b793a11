import { caseKey } from '../src/shared/text-key.js';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import SQLite from 'better-sqlite3';
import { createVerifier } from 'fast-jwt';
import pg from 'pg';

/**
 * The floor: what Node and the database can do for the benchmark's read scenarios with no
 * framework at all. A bare node:http server runs the statements the project runs for each
 * request (copied from what its Kysely queries compile to; test/modules/bench.test.ts fails
 * when they drift apart), prepared once, and JSON.stringifies the same response bodies. It
 * answers only the requests the benchmark sends, and checks the access token of
 * /api/my-courses/ as the project does (fast-jwt, the same derived key, a revocation lookup).
 */

type Row = Record<string, unknown>;
export type FloorDialect = 'sqlite' | 'postgres';

const ITEM_COLUMNS = `"c"."id", "c"."title", "c"."description", "c"."price_cents", "c"."thumbnail", "c"."is_published", "c"."average_rating", "c"."reviews_count", "c"."students_count", "c"."lessons_count", "c"."total_duration", "c"."created_at", "c"."updated_at", "c"."category_id", "cat"."name" as "category_name", "cat"."slug" as "category_slug", "c"."instructor_id", "u"."username" as "instructor_username", "u"."first_name" as "instructor_first_name", "u"."last_name" as "instructor_last_name", "u"."bio" as "instructor_bio", "u"."profile_image" as "instructor_profile_image", "c"."sequential"`;
const ITEM_FROM = `from "courses" as "c" inner join "categories" as "cat" on "cat"."id" = "c"."category_id" inner join "users" as "u" on "u"."id" = "c"."instructor_id"`;
const REVIEW_FROM = `from "reviews" inner join "users" on "users"."id" = "reviews"."student_id" inner join "courses" on "courses"."id" = "reviews"."course_id"`;
const MY_COURSES_FROM = `from "enrollments" inner join "courses" on "courses"."id" = "enrollments"."course_id"`;

/** `?` for SQLite, `$n` for PostgreSQL: the only difference between most statements. */
function placeholders(dialect: FloorDialect) {
  let n = 0;
  return () => (dialect === 'sqlite' ? '?' : `$${++n}`);
}

/** Every statement the floor runs, by name, as the project's queries compile on this dialect. */
export function floorStatements(dialect: FloorDialect) {
  const sqlite = dialect === 'sqlite';
  const p = placeholders;
  const page = (order: string, where: (next: () => string) => string) => {
    const $ = p(dialect);
    return `select ${ITEM_COLUMNS} ${ITEM_FROM} inner join (select "c"."id", 0 as "score" from "courses" as "c" where ${where($)} order by ${order} limit ${$()} offset ${$()}) as "p" on "p"."id" = "c"."id" order by ${order}`;
  };
  const searchFirstIds = () => {
    const $ = p(dialect);
    // PostgreSQL: the project's sort variant (fewer than 20,000 matches, as the bench's search term has).
    const tier = (n: number, from: string, where: string) =>
      `select * from (select ${from} where ${where} order by ${sqlite ? 'rowid desc' : '"c"."id" desc nulls last'} limit ${$()}) as "t${n}"`;
    const fromIndex = (n: number) => `rowid as "id", ${n} as "tier" from courses_search as "s"`;
    const fromCourses = (n: number) => `"c"."id", ${n} as "tier" from "courses" as "c"`;
    const query = () => `to_tsquery('simple'::regconfig, ${$()})`;
    const t0 = sqlite
      ? tier(0, fromIndex(0), `courses_search match ${$()}`)
      : tier(0, fromCourses(0), `c.is_published and course_title_document(c.title) @@ ${query()}`);
    const t1 = sqlite
      ? tier(1, fromIndex(1), `courses_search match ${$()}`)
      : tier(1, fromCourses(1), `c.is_published and c.search_vector @@ ${query()} and not (c.search_vector @@ ${query()})`);
    return `select "u"."id" from (${t0} union all ${t1}) as "u" order by "u"."tier" asc, "u"."id" desc limit ${$()} offset ${$()}`;
  };
  const one = (build: (next: () => string) => string) => build(p(dialect));

  return {
    publishedCount: `select coalesce(sum("courses_count"), 0) as "count" from "categories"`,
    catalogPage: page(`"c"."created_at" desc, "c"."id" asc`, ($) => `"c"."is_published" = ${$()}`),
    searchCount: one(($) =>
      sqlite
        ? `select count(*) as "count" from courses_search as "s" where courses_search match ${$()}`
        : `select count(*) as "count" from "courses" as "c" where c.is_published and c.search_vector @@ to_tsquery('simple'::regconfig, ${$()})`,
    ),
    searchFirstIds: searchFirstIds(),
    categoryByReference: one(($) => `select * from "categories" where ("slug" = ${$()} or "name_key" = ${$()}) limit ${$()}`),
    categoryCount: one(($) => `select coalesce(sum("courses_count"), 0) as "count" from "categories" where "id" = ${$()}`),
    categoryByPricePage: page(`"c"."price_cents" asc, "c"."id" asc`, ($) => `"c"."is_published" = ${$()} and "c"."category_id" = ${$()}`),
    courseItem: one(($) => `select ${ITEM_COLUMNS} ${ITEM_FROM} where "c"."id" = ${$()}`),
    lessonOutline: one(
      ($) =>
        `select "id", "title", "position", "duration", "is_preview", "section_id" from "lessons" where "course_id" = ${$()} order by "position" asc, "id" asc`,
    ),
    ratingCounts: one(($) => `select "ratings_1", "ratings_2", "ratings_3", "ratings_4", "ratings_5" from "courses" where "id" = ${$()}`),
    sectionOutline: one(
      ($) => `select "id", "title", "position" from "sections" where "course_id" = ${$()} order by "position" asc, "id" asc`,
    ),
    myCoursesCount: one(
      ($) =>
        `select count(*) as "count" ${MY_COURSES_FROM} where "enrollments"."student_id" = ${$()} and "courses"."is_published" = ${$()}`,
    ),
    myCoursesPage: one(
      ($) =>
        `select "enrollments".*, "courses"."title", (select count(*) as "n" from "lessons" where "lessons"."course_id" = "enrollments"."course_id") as "total_lessons" ${MY_COURSES_FROM} where "enrollments"."student_id" = ${$()} and "courses"."is_published" = ${$()} order by "enrollments"."enrolled_on" desc, "enrollments"."id" asc limit ${$()} offset ${$()}`,
    ),
    /** The item query for a list of ids; one statement per list length, as Kysely compiles it. */
    itemsByIds: (count: number) =>
      one(($) => `select ${ITEM_COLUMNS} ${ITEM_FROM} where "c"."id" in (${Array.from({ length: count }, $).join(', ')})`),
    reviewsCount: one(
      ($) =>
        `select count(*) as "count" ${REVIEW_FROM} where "courses"."is_published" = ${$()} and "reviews"."is_hidden" = ${$()} and "reviews"."course_id" = ${$()}`,
    ),
    reviewsPage: one(
      ($) =>
        `select "reviews"."id", "reviews"."course_id", "reviews"."student_id", "reviews"."rating", "reviews"."comment", "reviews"."created_at", "reviews"."updated_at", "reviews"."is_hidden", "reviews"."reply_text", "reviews"."reply_created_at", "reviews"."reply_updated_at", "users"."username", "users"."first_name", "users"."last_name", "users"."bio", "users"."profile_image", "courses"."instructor_id", "courses"."is_published" ${REVIEW_FROM} where "courses"."is_published" = ${$()} and "reviews"."is_hidden" = ${$()} and "reviews"."course_id" = ${$()} order by "reviews"."created_at" desc, "reviews"."id" asc limit ${$()} offset ${$()}`,
    ),
  };
}

type Statements = ReturnType<typeof floorStatements>;
type StatementName = Exclude<keyof Statements, 'itemsByIds'>;

interface Store {
  /** Rows of a prepared statement (prepared on first use, by name). */
  all(name: string, text: string, params: unknown[]): Promise<Row[]>;
  /** The dialect's `true` as a bound parameter. */
  yes: unknown;
  no: unknown;
  close(): Promise<void>;
}

function sqliteStore(file: string): Store {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  const prepared = new Map<string, SQLite.Statement>();
  return {
    yes: 1,
    no: 0,
    async all(name, text, params) {
      let statement = prepared.get(name);
      if (!statement) prepared.set(name, (statement = db.prepare(text)));
      return statement.all(params) as Row[];
    },
    async close() {
      db.close();
    },
  };
}

const INT8: number = pg.types.builtins.INT8;
const NUMERIC: number = pg.types.builtins.NUMERIC;

function postgresStore(url: string): Store {
  // As the project's pool does: BIGINT and NUMERIC as numbers.
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
      if (oid === INT8) return (v: string) => Number.parseInt(v, 10);
      if (oid === NUMERIC) return (v: string) => Number.parseFloat(v);
      return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
    },
  };
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  pool.on('error', () => {});
  return {
    yes: true,
    no: false,
    async all(name, text, values) {
      return (await pool.query({ name, text, values })).rows as Row[];
    },
    close: () => pool.end(),
  };
}

// What the project's services make of rows (courses, lessons, enrollments, reviews services).
const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : (value as string));
const isoOrNull = (value: unknown) => (value === null ? null : iso(value));
const bool = (value: unknown) => value === true || value === 1;
const price = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
const media = (origin: string, key: unknown) => (key === null ? null : `${origin}/media/${key as string}`);

function courseItem(row: Row, origin: string) {
  const reviews = row.reviews_count as number;
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    price: price(row.price_cents as number),
    is_free: row.price_cents === 0,
    category: { id: row.category_id, name: row.category_name, slug: row.category_slug },
    instructor: {
      id: row.instructor_id,
      username: row.instructor_username,
      first_name: row.instructor_first_name,
      last_name: row.instructor_last_name,
      bio: row.instructor_bio,
      profile_image: media(origin, row.instructor_profile_image),
    },
    thumbnail: media(origin, row.thumbnail),
    is_published: bool(row.is_published),
    average_rating: reviews > 0 ? Math.round((row.average_rating as number) * 100) / 100 : null,
    reviews_count: reviews,
    students_count: row.students_count,
    lessons_count: row.lessons_count,
    total_duration: Number(row.total_duration),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

const PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 100;
const CACHE_TTL_MS = 10_000;
const RANKED_WINDOW = 500;

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

function pageOf(query: URLSearchParams) {
  const rawPage = query.get('page');
  if (rawPage !== null && rawPage !== '' && (!/^\d+$/.test(rawPage) || Number(rawPage) < 1)) throw new HttpFailure(404, 'Invalid page.');
  const page = rawPage ? Number(rawPage) : 1;
  const rawSize = query.get('page_size');
  const size = rawSize && /^\d+$/.test(rawSize) && Number(rawSize) > 0 ? Math.min(Number(rawSize), MAX_PAGE_SIZE) : PAGE_SIZE;
  return { page, size, offset: (page - 1) * size };
}

function paginated(url: string, origin: string, page: { page: number; size: number }, count: number, results: unknown[]) {
  const pages = Math.max(1, Math.ceil(count / page.size));
  if (page.page > pages) throw new HttpFailure(404, 'Invalid page.');
  const link = (n: number) => {
    const target = new URL(url, origin);
    if (n === 1) target.searchParams.delete('page');
    else target.searchParams.set('page', String(n));
    return target.toString();
  };
  return { count, next: page.page < pages ? link(page.page + 1) : null, previous: page.page > 1 ? link(page.page - 1) : null, results };
}

const firstCount = (rows: Row[]) => Number(rows[0]?.count ?? 0);

export interface FloorOptions {
  databaseUrl: string;
  secretKey: string;
  /** Told the text of every statement run, in order (the harness test compares them with the project's). */
  trace?: (text: string) => void;
}

export function createFloor(options: FloorOptions) {
  const dialect: FloorDialect = options.databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres';
  const opened = dialect === 'sqlite' ? sqliteStore(options.databaseUrl.slice('sqlite:'.length)) : postgresStore(options.databaseUrl);
  const { trace } = options;
  const store: Store = trace ? { ...opened, all: (name, text, params) => (trace(text), opened.all(name, text, params)) } : opened;
  const sql = floorStatements(dialect);
  const run = (name: StatementName, params: unknown[]) => store.all(name, sql[name], params);
  const accessKey = createHmac('sha256', options.secretKey).update('jwt:access').digest();
  const verifyAccess = createVerifier({ key: accessKey, algorithms: ['HS256'], cache: 10_000 });
  const revoked = new Map<string, number>();

  async function items(ids: number[], origin: string) {
    if (ids.length === 0) return new Map<number, ReturnType<typeof courseItem>>();
    const rows = await store.all(`itemsByIds${ids.length}`, sql.itemsByIds(ids.length), ids);
    return new Map(rows.filter((r) => bool(r.is_published)).map((r) => [r.id as number, courseItem(r, origin)]));
  }

  /**
   * The project keeps catalog counts and the first RANKED_WINDOW ids of a search for
   * CACHE_TTL_MS (courses/cache.ts); the floor keeps the same answers as long, so both run the
   * same statements per request: a fair floor does the same work, not more.
   */
  const memo = new Map<string, { expires: number; value: Promise<unknown> }>();
  function remember<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const hit = memo.get(key);
    if (hit && hit.expires > Date.now()) return hit.value as Promise<T>;
    const value = compute();
    memo.set(key, { expires: Date.now() + CACHE_TTL_MS, value });
    return value;
  }

  async function courseList(url: string, query: URLSearchParams, origin: string) {
    const page = pageOf(query);
    const search = query.get('search');
    const category = query.get('category');
    if (search !== null) {
      const words = [
        ...new Set(
          search
            .normalize('NFC')
            .toLowerCase()
            .match(/[\p{L}\p{N}\p{Co}]+/gu) ?? [],
        ),
      ];
      // As the project's public search (courses/repository.ts): counted from the full-text index, title hits first.
      const fts = (columns: string) => `${columns} : (${words.map((w) => `"${w}"*`).join(' ')})`;
      const all = fts('{title description category instructor}');
      const title = fts('title');
      const match = dialect === 'sqlite' ? `(${all}) NOT draft : "draft"` : words.map((w) => `${w}:*`).join(' & ');
      const count = await remember(`count ${match}`, async () => firstCount(await run('searchCount', [match])));
      if (page.offset >= count) return paginated(url, origin, page, count, []);
      if (page.offset + page.size > RANKED_WINDOW) throw new HttpFailure(400, 'the floor pages a search within its ranked window only');
      const ids = await remember(`ranked ${match}`, async () => {
        const params =
          dialect === 'sqlite'
            ? [
                `(${title}) NOT draft : "draft"`,
                RANKED_WINDOW,
                `((${all}) NOT (${title})) NOT draft : "draft"`,
                RANKED_WINDOW,
                RANKED_WINDOW,
                0,
              ]
            : [match, RANKED_WINDOW, match, words.map((w) => `${w}:*A`).join(' & '), RANKED_WINDOW, RANKED_WINDOW, 0];
        return (await run('searchFirstIds', params)).map((r) => r.id as number);
      });
      const wanted = ids.slice(page.offset, page.offset + page.size);
      const found = await items(wanted, origin);
      return paginated(
        url,
        origin,
        page,
        count,
        wanted.flatMap((id) => found.get(id) ?? []),
      );
    }
    if (category !== null) {
      if (query.get('ordering') !== 'price') throw new HttpFailure(400, 'the floor orders a category by price only');
      const reference = category.trim().toLowerCase();
      const found = (await run('categoryByReference', [reference, caseKey(reference), 1]))[0];
      if (!found) return paginated(url, origin, page, 0, []);
      const count = await remember(`count category ${found.id as number}`, async () => firstCount(await run('categoryCount', [found.id])));
      if (page.offset >= count) return paginated(url, origin, page, count, []);
      const rows = await run('categoryByPricePage', [store.yes, found.id, page.size, page.offset]);
      return paginated(
        url,
        origin,
        page,
        count,
        rows.map((r) => courseItem(r, origin)),
      );
    }
    const count = await remember('count', async () => firstCount(await run('publishedCount', [])));
    if (page.offset >= count) return paginated(url, origin, page, count, []);
    const rows = await run('catalogPage', [store.yes, page.size, page.offset]);
    return paginated(
      url,
      origin,
      page,
      count,
      rows.map((r) => courseItem(r, origin)),
    );
  }

  async function courseDetail(id: number, origin: string) {
    const row = (await run('courseItem', [id]))[0];
    if (!row || !bool(row.is_published)) throw new HttpFailure(404, 'Not found.');
    const lessons = await run('lessonOutline', [id]);
    const ratings = (await run('ratingCounts', [id]))[0];
    const sections = await run('sectionOutline', [id]);
    return {
      ...courseItem(row, origin),
      lessons: lessons.map((l) => ({
        id: l.id,
        title: l.title,
        order: l.position,
        duration: l.duration,
        is_preview: bool(l.is_preview),
        section: l.section_id,
      })),
      sections: sections.map((s) => ({ id: s.id, title: s.title, order: s.position })),
      sequential: bool(row.sequential),
      rating_histogram: Object.fromEntries([1, 2, 3, 4, 5].map((n) => [String(n), Number(ratings?.[`ratings_${n}`] ?? 0)])),
      enrollment: null,
    };
  }

  function student(request: IncomingMessage): number {
    const header = request.headers.authorization;
    const [scheme, token] = header?.split(' ') ?? [];
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw new HttpFailure(401, 'Authentication credentials were not provided.');
    let claims: { typ?: string; sub?: string; sid?: string; role?: string };
    try {
      claims = verifyAccess(token) as typeof claims;
    } catch {
      throw new HttpFailure(401, 'Given token not valid for any token type');
    }
    if (claims.typ !== 'access' || typeof claims.sid !== 'string' || revoked.has(claims.sid))
      throw new HttpFailure(401, 'Token is invalid');
    if (claims.role !== 'student') throw new HttpFailure(403, 'Only student accounts may do this.');
    return Number(claims.sub);
  }

  async function myCourses(url: string, query: URLSearchParams, studentId: number, origin: string) {
    const page = pageOf(query);
    const count = firstCount(await run('myCoursesCount', [studentId, store.yes]));
    const rows = await run('myCoursesPage', [studentId, store.yes, page.size, page.offset]);
    const courses = await items([...new Set(rows.map((r) => r.course_id as number))], origin);
    const results = rows.flatMap((r) => {
      const course = courses.get(r.course_id as number);
      return course
        ? [{ id: r.id, course, enrolled_on: iso(r.enrolled_on), progress: r.progress, completed_at: isoOrNull(r.completed_at) }]
        : [];
    });
    return paginated(url, origin, page, count, results);
  }

  async function reviews(url: string, query: URLSearchParams, origin: string) {
    const page = pageOf(query);
    const course = Number(query.get('course'));
    const count = firstCount(await run('reviewsCount', [store.yes, store.no, course]));
    const rows = await run('reviewsPage', [store.yes, store.no, course, page.size, page.offset]);
    return paginated(
      url,
      origin,
      page,
      count,
      rows.map((r) => ({
        id: r.id,
        course: r.course_id,
        student: {
          id: r.student_id,
          username: r.username,
          first_name: r.first_name,
          last_name: r.last_name,
          bio: r.bio,
          profile_image: media(origin, r.profile_image),
        },
        rating: r.rating,
        comment: r.comment,
        created_at: iso(r.created_at),
        updated_at: iso(r.updated_at),
        reply:
          r.reply_text === null ? null : { text: r.reply_text, created_at: iso(r.reply_created_at), updated_at: iso(r.reply_updated_at) },
      })),
    );
  }

  const COURSE = /^\/api\/courses\/(\d{1,9})\/?$/;

  async function route(request: IncomingMessage): Promise<unknown> {
    const url = request.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark === -1 ? url : url.slice(0, mark);
    const query = new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1));
    const origin = `http://${request.headers.host ?? 'localhost'}`;
    if (request.method !== 'GET') throw new HttpFailure(405, 'Method not allowed.');
    if (path === '/api/courses/') return courseList(url, query, origin);
    if (path === '/api/my-courses/') return myCourses(url, query, student(request), origin);
    if (path === '/api/reviews/') return reviews(url, query, origin);
    if (path === '/ready') return { status: 'ok' };
    const course = COURSE.exec(path);
    if (course) return courseDetail(Number(course[1]), origin);
    throw new HttpFailure(404, 'Not found.');
  }

  const send = (response: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  };

  const server = http.createServer((request, response) => {
    route(request).then(
      (body) => send(response, 200, body),
      (error: unknown) => {
        if (error instanceof HttpFailure) send(response, error.status, { detail: error.message });
        else send(response, 500, { detail: error instanceof Error ? error.message : String(error) });
      },
    );
  });

  return {
    server,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

if (/floor\.(ts|js)$/.test(process.argv[1] ?? '')) {
  const { DATABASE_URL, SECRET_KEY, PORT, HOST } = process.env;
  if (!DATABASE_URL || !SECRET_KEY) throw new Error('the floor needs DATABASE_URL and SECRET_KEY');
  const floor = createFloor({ databaseUrl: DATABASE_URL, secretKey: SECRET_KEY });
  floor.server.keepAliveTimeout = 72_000;
  floor.server.listen(Number(PORT ?? 8001), HOST ?? '127.0.0.1');
  const stop = () => void floor.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
