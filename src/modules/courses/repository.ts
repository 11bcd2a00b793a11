import { sql } from 'kysely';
import type { Expression, Insertable, OrderByModifiers, SelectQueryBuilder, Updateable } from 'kysely';
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

export type CourseOrderColumn = 'price_cents' | 'created_at' | 'updated_at' | 'title' | 'average_rating' | 'students_count' | 'reviews_count';

/**
 * Full-text matching, the one place where the dialects differ. Each returns the courses
 * (alias c) whose indexed words begin with every search word, and a score where lower is
 * the better match: a title hit outranks a category, an instructor, then a description hit.
 * - SQLite: the FTS5 table courses_fts (rowid = course id), prefix query `"word"*`, bm25 with
 *   column weights (title, description, category, instructor).
 * - PostgreSQL: courses.search_vector (GIN), `to_tsquery('simple', 'word:* & ...')`, ts_rank
 *   over the A/B/C/D weights the migration gives the same four fields.
 * Both are kept in step by triggers (migration 0002), including category and username renames.
 */
function matching(db: Executor, words: string[] | undefined) {
  const courses = db.selectFrom('courses as c');
  if (words === undefined) return { courses, score: undefined };
  if (isPostgres(db)) {
    const query = sql`to_tsquery('simple'::regconfig, ${words.map((w) => `${w}:*`).join(' & ')})`;
    return {
      courses: courses.where(sql<boolean>`c.search_vector @@ ${query}`),
      score: sql<number>`-ts_rank(c.search_vector, ${query})`,
    };
  }
  const joined = courses
    .innerJoin(sql<{ rowid: number }>`courses_fts`.as('courses_fts'), (join) => join.on(sql<boolean>`courses_fts.rowid = c.id`))
    .where(sql<boolean>`courses_fts match ${words.map((w) => `"${w}"*`).join(' ')}`);
  // The virtual table adds no column that is read through the typed API; only raw SQL names it.
  return { courses: joined as unknown as typeof courses, score: sql<number>`bm25(courses_fts, 10.0, 1.0, 4.0, 2.0)` };
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
    q = 'id' in instructor
      ? q.where('c.instructor_id', '=', instructor.id)
      : q.where('c.instructor_id', '=', (eb) =>
        eb.selectFrom('users').select('users.id').where(sql`lower(users.username)`, '=', instructor.username.toLowerCase()));
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
  terms.push([sql.ref('c.id'), 'asc']);
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
  pageQuery(db, values, sort, { page: 1, pageSize: values.limit, limit: values.limit, offset: values.offset }));

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
