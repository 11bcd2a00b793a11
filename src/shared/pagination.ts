import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TSchema } from 'typebox';
import { invalidField, notFound } from './errors.js';

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 100;

export const PageQuery = {
  page: Type.Optional(Type.String({ description: '1-based page number' })),
  page_size: Type.Optional(
    Type.String({ description: `Items per page (default ${DEFAULT_PAGE_SIZE}, capped at ${MAX_PAGE_SIZE}; an invalid value falls back to the default)` }),
  ),
};

export interface PageRequest {
  page: number;
  pageSize: number;
  offset: number;
  limit: number;
}

/** DRF's PageNumberPagination: an invalid page is a 404, an invalid page_size the default. */
export function pageRequest(query: { page?: string | undefined; page_size?: string | undefined }): PageRequest {
  let page = 1;
  if (query.page !== undefined && query.page !== '') {
    if (!/^\d+$/.test(query.page) || Number(query.page) < 1) throw notFound('Invalid page.');
    page = Number(query.page);
  }
  let pageSize = DEFAULT_PAGE_SIZE;
  if (query.page_size !== undefined && /^\d+$/.test(query.page_size) && Number(query.page_size) > 0) {
    pageSize = Math.min(Number(query.page_size), MAX_PAGE_SIZE);
  }
  return { page, pageSize, offset: (page - 1) * pageSize, limit: pageSize };
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

function pageLink(request: FastifyRequest, page: number): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  if (page === 1) url.searchParams.delete('page');
  else url.searchParams.set('page', String(page));
  return url.toString();
}

export function buildPage<T>(request: FastifyRequest, pr: PageRequest, count: number, results: T[]): Page<T> {
  const pages = Math.max(1, Math.ceil(count / pr.pageSize));
  if (pr.page > pages) throw notFound('Invalid page.');
  return {
    count,
    next: pr.page < pages ? pageLink(request, pr.page + 1) : null,
    previous: pr.page > 1 ? pageLink(request, pr.page - 1) : null,
    results,
  };
}

export function PageSchema<T extends TSchema>(item: T) {
  return Type.Object({
    count: Type.Integer(),
    next: Type.Union([Type.String({ format: 'uri' }), Type.Null()]),
    previous: Type.Union([Type.String({ format: 'uri' }), Type.Null()]),
    results: Type.Array(item),
  });
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
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
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
