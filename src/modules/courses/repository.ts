import { sql } from 'kysely';
import type { Expression, Insertable, Kysely, OrderByModifiers, SelectQueryBuilder, Updateable } from 'kysely';
import { isPostgres } from '../../db/index.js';
import { preparedQuery, preparedShapes } from '../../db/prepared.js';
import { forUpdate } from '../../db/query.js';
import type { Executor } from '../../db/query.js';
import type { CourseTable, DB } from '../../db/types.js';
import type { OrderTerm, PageRequest } from '../../shared/pagination.js';

/** A course row with its category and public instructor: everything a list item shows, in one join. */
function itemQuery(db: Executor) {
  return db
    .selectFrom('courses as c')
    .innerJoin('categories as cat', 'cat.id', 'c.category_id')
    .innerJoin('users as u', 'u.id', 'c.instructor_id')
    .select([
      'c.id',
      'c.title',
      'c.description',
      'c.price_cents',
      'c.thumbnail',
      'c.is_published',
      'c.average_rating',
      'c.reviews_count',
      'c.students_count',
      'c.lessons_count',
      'c.total_duration',
      'c.created_at',
      'c.updated_at',
      'c.category_id',
      'cat.name as category_name',
      'cat.slug as category_slug',
      'c.instructor_id',
      'u.username as instructor_username',
      'u.first_name as instructor_first_name',
      'u.last_name as instructor_last_name',
      'u.bio as instructor_bio',
      'u.profile_image as instructor_profile_image',
      'c.sequential',
    ]);
}

export type CourseItemRow = Awaited<ReturnType<ReturnType<typeof itemQuery>['executeTakeFirstOrThrow']>>;

const findItemQuery = preparedQuery((db, id: number) => itemQuery(db).where('c.id', '=', id));
export async function findItem(db: Executor, id: number) {
  return (await findItemQuery(db, id))[0];
}

/** In no particular order; the caller orders. */
const itemsByIdsPrepared = preparedQuery((db, ...ids: number[]) => itemQuery(db).where('c.id', 'in', ids));
export function itemsByIds(db: Executor, ids: readonly number[]) {
  return ids.length === 0 ? Promise.resolve([]) : itemsByIdsPrepared(db, ...ids);
}

export function itemsByIdsQuery(db: Executor, ids: readonly number[]) {
  return itemQuery(db).where('c.id', 'in', ids);
}

const factColumns = ['id', 'title', 'instructor_id', 'category_id', 'is_published', 'thumbnail', 'students_count', 'sequential'] as const;

export function findFacts(db: Executor, id: number) {
  return db.selectFrom('courses').select(factColumns).where('id', '=', id).executeTakeFirst();
}

/**
 * The same, the row locked until the transaction ends on PostgreSQL (SQLite runs one writer
 * at a time). Every writer of a course's rows or counters (lessons, enrollments, reviews, the
 * course itself) takes it first, so what it counts next sees every change committed before.
 */
export function lockFacts(trx: Executor, id: number) {
  return forUpdate(trx, trx.selectFrom('courses').select(factColumns).where('id', '=', id)).executeTakeFirst();
}

export function insertCourse(db: Executor, values: Insertable<CourseTable>) {
  return db.insertInto('courses').values(values).returning('id').executeTakeFirstOrThrow();
}

export function updateCourse(db: Executor, id: number, changes: Updateable<CourseTable>) {
  return db.updateTable('courses').set(changes).where('id', '=', id).executeTakeFirst();
}

export function deleteCourse(db: Executor, id: number) {
  return db.deleteFrom('courses').where('id', '=', id).executeTakeFirst();
}

export type InstructorReference = { id: number } | { username: string };

/** Conditions of a course list; every one is optional and they all hold at once. */
export interface CourseFilters {
  isPublished?: boolean | undefined;
  instructorId?: number | undefined;
  instructor?: InstructorReference | undefined;
  categoryId?: number | undefined;
  minPriceCents?: number | undefined;
  maxPriceCents?: number | undefined;
  isFree?: boolean | undefined;
  minRating?: number | undefined;
  /** Every word must begin a word of the title, description, category name or instructor username. */
  searchWords?: string[] | undefined;
}

export type CourseOrderColumn =
  | 'price_cents'
  | 'created_at'
  | 'updated_at'
  | 'title'
  | 'average_rating'
  | 'students_count'
  | 'reviews_count';

/**
 * Full-text matching, the one place where the dialects differ. Each returns the courses
 * (alias c) whose indexed words begin with every search word, and a rank where lower is the
 * better match: 0 when every word begins a word of the title (a title hit), else 1. Ranked
 * lists order by it, then newest first (id descending), as the public fast path does.
 * - SQLite: the FTS5 table courses_search (rowid = course id, migration 0008), prefix query
 *   `"word"*` restricted to the four text columns (the fifth, `draft`, marks drafts).
 * - PostgreSQL: courses.search_vector (GIN), `to_tsquery('simple', 'word:* & ...')`; a title
 *   hit is the same query restricted to weight A, which the migration gives the title.
 * Both are kept in step by triggers (migrations 0002 and 0008), including renames.
 */
export const ftsTextQuery = (words: string[], columns = '{title description category instructor}') =>
  `${columns} : (${words.map((w) => `"${w}"*`).join(' ')})`;
export const tsQueryText = (words: string[], weights = '') => words.map((w) => `${w}:*${weights}`).join(' & ');

function matching(db: Executor, words: string[] | undefined) {
  const courses = db.selectFrom('courses as c');
  if (words === undefined) return { courses, score: undefined };
  if (isPostgres(db)) {
    const query = sql`to_tsquery('simple'::regconfig, ${tsQueryText(words)})`;
    const title = sql`to_tsquery('simple'::regconfig, ${tsQueryText(words, 'A')})`;
    return {
      courses: courses.where(sql<boolean>`c.search_vector @@ ${query}`),
      score: sql<number>`case when c.search_vector @@ ${title} then 0 else 1 end`,
    };
  }
  const joined = courses
    .innerJoin(sql<{ rowid: number }>`courses_search`.as('courses_search'), (join) => join.on(sql<boolean>`courses_search.rowid = c.id`))
    .where(sql<boolean>`courses_search match ${ftsTextQuery(words)}`);
  const titleHits = sql`(select rowid from courses_search where courses_search match ${ftsTextQuery(words, 'title')})`;
  // The virtual table adds no column that is read through the typed API; only raw SQL names it.
  return { courses: joined as unknown as typeof courses, score: sql<number>`case when c.id in ${titleHits} then 0 else 1 end` };
}

/**
 * A search of the public catalog with no other filter: what people type into the search box.
 * Answered from the full-text indexes alone (migration 0008), without a course row per match.
 */
export function isPublicSearch(filters: CourseFilters): filters is CourseFilters & { searchWords: string[] } {
  return (
    filters.searchWords !== undefined &&
    Object.entries(filters).every(([key, value]) => key === 'searchWords' || (key === 'isPublished' ? value === true : value === undefined))
  );
}

const NOT_DRAFT = 'NOT draft : "draft"';
const ftsPublic = (words: string[]) => `(${ftsTextQuery(words)}) ${NOT_DRAFT}`;
const ftsPublicTitle = (words: string[]) => `(${ftsTextQuery(words, 'title')}) ${NOT_DRAFT}`;
const ftsPublicRest = (words: string[]) => `((${ftsTextQuery(words)}) NOT (${ftsTextQuery(words, 'title')})) ${NOT_DRAFT}`;
const tsQuery = (text: string) => sql`to_tsquery('simple'::regconfig, ${text})`;

const sqliteCount = preparedQuery((db, match: string) =>
  db
    .selectFrom(sql<{ rowid: number }>`courses_search`.as('s'))
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where(sql<boolean>`courses_search match ${match}`),
);
// A literal `is_published`, not a bound value: the partial indexes (where is_published) stay usable by generic plans.
const pgCount = preparedQuery((db, query: string) =>
  db
    .selectFrom('courses as c')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where(sql<boolean>`c.is_published`)
    .where(sql<boolean>`c.search_vector @@ ${tsQuery(query)}`),
);

/** How many published courses a search matches: the full-text index alone (SQLite), or its partial GIN index (PostgreSQL). */
export async function countPublicSearch(db: Executor, words: string[]): Promise<number> {
  const [row] = isPostgres(db) ? await pgCount(db, tsQueryText(words)) : await sqliteCount(db, ftsPublic(words));
  return Number(row!.count);
}

/**
 * One tier of a public search: its published courses newest first (by id, the order courses
 * were created in), the first `limit`. SQLite: straight from the full-text index, whose lists
 * are kept in rowid order, so FTS5 reads them backwards and stops at the limit (no row of
 * courses, no sort; the `draft` column keeps unpublished courses out). PostgreSQL: the title
 * hits from the title's GIN index, the others from search_vector less the weight-A (title)
 * hits; see publicSearchIds for `walk`.
 */
function publicTier(db: Kysely<DB>, tier: 0 | 1, match: string, title: string, limit: number, walk: boolean) {
  if (!isPostgres(db)) {
    return db
      .selectFrom(sql<{ rowid: number }>`courses_search`.as('s'))
      .select([sql<number>`rowid`.as('id'), sql<number>`${sql.lit(tier)}`.as('tier')])
      .where(sql<boolean>`courses_search match ${match}`)
      .orderBy(sql`rowid`, 'desc')
      .limit(limit);
  }
  const query = db
    .selectFrom('courses as c')
    .select(['c.id', sql<number>`${sql.lit(tier)}`.as('tier')])
    .where(sql<boolean>`c.is_published`);
  return (
    tier === 0
      ? query.where(sql<boolean>`course_title_document(c.title) @@ ${tsQuery(match)}`)
      : query.where(sql<boolean>`c.search_vector @@ ${tsQuery(match)}`).where(sql<boolean>`not (c.search_vector @@ ${tsQuery(title)})`)
  )
    .orderBy('c.id', (ob) => (walk ? ob.desc() : ob.desc().nullsLast()))
    .limit(limit);
}

const publicPageOf = (walk: boolean) =>
  preparedQuery((db, titleMatch: string, restMatch: string, title: string, reach: number, limit: number, offset: number) => {
    const tiers = db
      .selectFrom(publicTier(db, 0, titleMatch, title, reach, false).as('t0'))
      .selectAll()
      .unionAll(db.selectFrom(publicTier(db, 1, restMatch, title, reach, walk).as('t1')).selectAll());
    return db.selectFrom(tiers.as('u')).select('u.id').orderBy('u.tier', 'asc').orderBy('u.id', 'desc').limit(limit).offset(offset);
  });
const publicPageWalk = publicPageOf(true);
const publicPageSort = publicPageOf(false);
/** From this many matches PostgreSQL walks the primary key for the second tier (see publicSearchIds). */
const WALK_FROM_MATCHES = 20_000;

/**
 * Ids of one page of a public search, best first: the title hits (every word begins a word of
 * the title), then the other matches, each newest first, in one statement. Each tier is cut at
 * the page's end before the two are merged, so neither is read past what the page needs and
 * no relevance score is computed per match: on SQLite the work grows with the page, not with
 * the number of matches.
 *
 * PostgreSQL cannot read a GIN index in id order. Walking the primary key backwards and
 * testing each course stops at the page, which is cheap when matches are many and reads the
 * whole table when they are few; taking the matches from the GIN index and sorting them costs
 * what the matches cost. Its planner picks between them from estimates that a prefix query
 * makes unreliable (it walked a million rows computing title vectors for a rare title), so the
 * choice is made here from the exact count: the title tier always from its index (`desc
 * nulls last`, which no backward index scan yields, keeps the planner from walking; ids are
 * never null), the other tier walked from WALK_FROM_MATCHES matches on. SQLite needs neither.
 */
export async function publicSearchIds(db: Executor, words: string[], matches: number, offset: number, limit: number): Promise<number[]> {
  const reach = offset + limit;
  const rows = isPostgres(db)
    ? await (matches >= WALK_FROM_MATCHES ? publicPageWalk : publicPageSort)(
        db,
        tsQueryText(words),
        tsQueryText(words),
        tsQueryText(words, 'A'),
        reach,
        limit,
        offset,
      )
    : await publicPageSort(db, ftsPublicTitle(words), ftsPublicRest(words), '', reach, limit, offset);
  return rows.map((row) => row.id);
}

type CourseQuery<O> = SelectQueryBuilder<DB & { c: CourseTable }, 'c', O>;

/**
 * The WHERE clause of a list. `priceBoundsIndexed: false` keeps SQLite from choosing a price
 * index for a price range when the page is ordered by something else: it would fetch and sort
 * every course in the range, where walking the index of the ordering stops after one page.
 * (Its planner has no statistics to weigh the two; PostgreSQL's has, and is left to choose.)
 */
function filtered<O>(query: CourseQuery<O>, filters: CourseFilters, priceBoundsIndexed = true): CourseQuery<O> {
  let q = query;
  if (filters.isPublished !== undefined) q = q.where('c.is_published', '=', filters.isPublished);
  if (filters.instructorId !== undefined) q = q.where('c.instructor_id', '=', filters.instructorId);
  const instructor = filters.instructor;
  if (instructor !== undefined) {
    q =
      'id' in instructor
        ? q.where('c.instructor_id', '=', instructor.id)
        : q.where('c.instructor_id', '=', (eb) =>
            eb
              .selectFrom('users')
              .select('users.id')
              .where(sql`lower(users.username)`, '=', instructor.username.toLowerCase()),
          );
  }
  if (filters.categoryId !== undefined) q = q.where('c.category_id', '=', filters.categoryId);
  // Unary plus: the same comparison, but not one an index can serve.
  const price = priceBoundsIndexed ? sql.ref('c.price_cents') : sql`+c.price_cents`;
  if (filters.minPriceCents !== undefined) q = q.where(price, '>=', filters.minPriceCents);
  if (filters.maxPriceCents !== undefined) q = q.where(price, '<=', filters.maxPriceCents);
  if (filters.isFree === true) q = q.where('c.price_cents', '=', 0);
  if (filters.isFree === false) q = q.where('c.price_cents', '>', 0);
  // A course without reviews has a null rating, which no comparison admits.
  if (filters.minRating !== undefined) q = q.where('c.average_rating', '>=', filters.minRating);
  return q;
}

const ORDER_EXPRESSIONS: Record<CourseOrderColumn, Expression<unknown>> = {
  price_cents: sql.ref('c.price_cents'),
  created_at: sql.ref('c.created_at'),
  updated_at: sql.ref('c.updated_at'),
  title: sql`lower(c.title)`,
  average_rating: sql.ref('c.average_rating'),
  students_count: sql.ref('c.students_count'),
  reviews_count: sql.ref('c.reviews_count'),
};

/**
 * ORDER BY terms, ending with the id tie-break, shaped as the indexes are (migration 0002).
 * A missing rating sorts as the lowest on both databases (PostgreSQL is told so).
 */
function orderTerms(db: Executor, ordering: OrderTerm<CourseOrderColumn>[], score: Expression<number> | undefined) {
  const postgres = isPostgres(db);
  const terms: [Expression<unknown>, OrderByModifiers][] = [];
  if (score) terms.push([score, 'asc']);
  for (const { column, direction } of ordering) {
    const nulls = postgres && column === 'average_rating';
    terms.push([
      ORDER_EXPRESSIONS[column],
      nulls ? (ob) => (direction === 'asc' ? ob.asc().nullsFirst() : ob.desc().nullsLast()) : direction,
    ]);
  }
  // Ranked (a search with no ordering given): within a rank, newest first by id, the order
  // courses were created in, as the search box's fast path reads its full-text index.
  terms.push([sql.ref('c.id'), score && ordering.length === 0 ? 'desc' : 'asc']);
  return terms;
}

/** The count of a filtered list (the builder, so that its SQL can be explained). */
export function countQuery(db: Executor, filters: CourseFilters) {
  const { courses } = matching(db, filters.searchWords);
  return filtered(courses, filters).select((eb) => eb.fn.countAll<number>().as('count'));
}

export async function countCourses(db: Executor, filters: CourseFilters): Promise<number> {
  return Number((await countQuery(db, filters).executeTakeFirstOrThrow()).count);
}

/** Published courses in all categories, or in one, from the counters the triggers keep. */
export function countPublishedQuery(db: Executor, categoryId?: number) {
  const query = db.selectFrom('categories').select((eb) => eb.fn.coalesce(eb.fn.sum<number>('courses_count'), eb.lit(0)).as('count'));
  return categoryId === undefined ? query : query.where('id', '=', categoryId);
}

export async function countPublished(db: Executor, categoryId?: number): Promise<number> {
  return Number((await countPublishedQuery(db, categoryId).executeTakeFirstOrThrow()).count);
}

export interface CourseSort {
  /** Best search match first (the ordering then breaks ties). */
  ranked: boolean;
  ordering: OrderTerm<CourseOrderColumn>[];
}

type PageRows = Awaited<ReturnType<ReturnType<typeof pageQuery>['execute']>>;

/**
 * Filters used only as values (no branching on them in `filtered`), so the hot catalog pages
 * (the catalog, a category, drafts) are prepared once per ordering: building and compiling
 * the page with Kysely costs more than running it (bench: catalog 0.43 → 0.72 of the floor
 * on SQLite). The other filters shape the query, and run through the builder each time.
 */
const PREPARED_FILTERS = new Set<string>(['isPublished', 'categoryId']);
type PreparedValues = Pick<CourseFilters, 'isPublished' | 'categoryId'> & { limit: number; offset: number };
const preparedPage = preparedShapes((db, sort: CourseSort, values: PreparedValues) =>
  pageQuery(db, values, sort, { page: 1, pageSize: values.limit, limit: values.limit, offset: values.offset }),
);

/**
 * One page of list items in one statement. The page's ids are chosen first from the indexes
 * alone (filter, order, offset), and only those rows are joined with their category and
 * instructor, so skipped rows cost an index step each, not a join.
 */
export function listPage(db: Executor, filters: CourseFilters, sort: CourseSort, page: PageRequest): Promise<PageRows> {
  const present = (Object.keys(filters) as (keyof CourseFilters)[]).filter((name) => filters[name] !== undefined);
  if (!present.every((name) => PREPARED_FILTERS.has(name))) return pageQuery(db, filters, sort, page).execute();
  const values = { isPublished: filters.isPublished, categoryId: filters.categoryId, limit: page.limit, offset: page.offset };
  return preparedPage(db, sort, values);
}

/** The ids of the matching courses, in order, with the search score when ranked. */
function orderedIds(db: Executor, filters: CourseFilters, sort: CourseSort) {
  const { courses, score } = matching(db, filters.searchWords);
  const rank = sort.ranked ? score : undefined;
  const priceBoundsIndexed = isPostgres(db) || sort.ordering[0]?.column === 'price_cents';
  let ids = filtered(courses, filters, priceBoundsIndexed).select(['c.id', (rank ?? sql<number>`0`).as('score')]);
  for (const [expression, modifiers] of orderTerms(db, sort.ordering, rank)) ids = ids.orderBy(expression, modifiers);
  return { ids, ranked: rank !== undefined };
}

/** The builder behind listPage, so that its SQL can be explained. */
export function pageQuery(db: Executor, filters: CourseFilters, sort: CourseSort, page: PageRequest) {
  const { ids, ranked } = orderedIds(db, filters, sort);
  let rows = itemQuery(db).innerJoin(ids.limit(page.limit).offset(page.offset).as('p'), 'p.id', 'c.id');
  for (const [expression, modifiers] of orderTerms(db, sort.ordering, ranked ? sql.ref<number>('p.score') : undefined)) {
    rows = rows.orderBy(expression, modifiers);
  }
  return rows;
}

/** The first `limit` ids in list order: the window of a search that the catalog cache keeps. */
export function firstIdsQuery(db: Executor, filters: CourseFilters, sort: CourseSort, limit: number) {
  return orderedIds(db, filters, sort).ids.limit(limit);
}

export async function firstIds(db: Executor, filters: CourseFilters, sort: CourseSort, limit: number): Promise<number[]> {
  return (await firstIdsQuery(db, filters, sort, limit).execute()).map((row) => row.id);
}
