import { Type } from 'typebox';
import type { TSchema } from 'typebox';
import { invalidField, notFound } from './errors.js';
import { schemaName, named, QueryInteger } from './openapi.js';

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 100;

export const PageQuery = {
  page: Type.Optional(QueryInteger({ description: '1-based page number', examples: ['2'] })),
  page_size: Type.Optional(
    QueryInteger({
      description: `Items per page (default ${DEFAULT_PAGE_SIZE}, capped at ${MAX_PAGE_SIZE}; an invalid value falls back to the default)`,
    }),
  ),
};

export interface PageRequest {
  page: number;
  pageSize: number;
  offset: number;
  limit: number;
}

const INVALID_PAGE = 'Invalid page.';
const invalidPage = () => notFound(INVALID_PAGE, 'invalid_page');

/**
 * DRF's PageNumberPagination: an invalid page is a 404, an invalid page_size the default.
 * A page number too large for any list (past 2^53 rows) is invalid here, before any query.
 */
export function pageRequest(query: { page?: string | undefined; page_size?: string | undefined }): PageRequest {
  let page = 1;
  if (query.page !== undefined && query.page !== '') {
    if (!/^\d{1,15}$/.test(query.page) || Number(query.page) < 1) throw invalidPage();
    page = Number(query.page);
  }
  let pageSize = DEFAULT_PAGE_SIZE;
  if (query.page_size !== undefined && /^\d{1,15}$/.test(query.page_size) && Number(query.page_size) > 0) {
    pageSize = Math.min(Number(query.page_size), MAX_PAGE_SIZE);
  }
  const offset = (page - 1) * pageSize;
  if (!Number.isSafeInteger(offset)) throw invalidPage();
  return { page, pageSize, offset, limit: pageSize };
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** The page's link: the request's own URL (path and query, made absolute on `origin`) with `page` set. */
function pageLink(origin: string, url: string, page: number): string {
  const link = new URL(url, origin);
  if (page === 1) link.searchParams.delete('page');
  else link.searchParams.set('page', String(page));
  return link.toString();
}

/** Where a list was asked for: the public origin and the request's path and query. */
export interface PageLocation {
  origin: string;
  url: string;
}

/** The page past the end of a list of `count` items is a 404, as DRF answers it. */
export function checkPage(page: PageRequest, count: number): void {
  if (page.page > Math.max(1, Math.ceil(count / page.pageSize))) throw invalidPage();
}

export function buildPage<T>(at: PageLocation, page: PageRequest, count: number, results: T[]): Page<T> {
  checkPage(page, count);
  const pages = Math.max(1, Math.ceil(count / page.pageSize));
  return {
    count,
    next: page.page < pages ? pageLink(at.origin, at.url, page.page + 1) : null,
    previous: page.page > 1 ? pageLink(at.origin, at.url, page.page - 1) : null,
    results,
  };
}

/** A list as a repository gives it: how many rows in all, and the rows of one page. */
export interface ListQuery<Row> {
  count(): Promise<number>;
  rows(page: PageRequest): Promise<Row[]>;
}

/**
 * Count, then one page: the rows are read only for a page that exists, so a page past the
 * end costs one count and answers 404 before the page query runs.
 */
export async function paginate<Row, T>(
  at: PageLocation,
  page: PageRequest,
  query: ListQuery<Row>,
  map: (rows: Row[]) => T[] | Promise<T[]>,
): Promise<Page<T>> {
  const count = await query.count();
  checkPage(page, count);
  const rows = count > page.offset ? await query.rows(page) : [];
  return buildPage(at, page, count, await map(rows));
}

/** A DRF paginated list; named after its item as drf-spectacular names it (`PaginatedCourseList`). */
export function PageSchema<T extends TSchema>(item: T) {
  const schema = Type.Object({
    count: Type.Integer({ examples: [123] }),
    next: Type.Union([Type.String({ format: 'uri' }), Type.Null()]),
    previous: Type.Union([Type.String({ format: 'uri' }), Type.Null()]),
    results: Type.Array(item),
  });
  const itemName = schemaName(item);
  return itemName ? named(`Paginated${itemName}List`, schema) : schema;
}

export type OrderTerm<Column extends string> = { column: Column; direction: 'asc' | 'desc' };

/**
 * Parses DRF's `ordering=a,-b`. Unknown fields are a 400 on `ordering`; the caller
 * appends the id tie-break so pages are stable.
 */
export function parseOrdering<Field extends string, Column extends string>(
  raw: string | undefined,
  fields: Record<Field, Column>,
  fallback: string,
): OrderTerm<Column>[] {
  const value = raw === undefined || raw.trim() === '' ? fallback : raw;
  const terms: OrderTerm<Column>[] = [];
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const descending = part.startsWith('-');
    const name = descending ? part.slice(1) : part;
    if (!Object.hasOwn(fields, name)) {
      throw invalidField('ordering', `Unknown ordering field "${name}". Choose from: ${Object.keys(fields).join(', ')}.`);
    }
    const column = fields[name as Field];
    if (!terms.some((t) => t.column === column)) terms.push({ column, direction: descending ? 'desc' : 'asc' });
  }
  return terms;
}
