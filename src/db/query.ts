import type { Kysely, SelectQueryBuilder, Transaction } from 'kysely';
import type { ListQuery, PageRequest } from '../shared/pagination.js';
import { isPostgres } from './index.js';
import type { DB } from './types.js';

/** What repository functions run on: the database or a transaction the service opened. */
export type Executor = Kysely<DB> | Transaction<DB>;

/**
 * The query with `FOR UPDATE` on PostgreSQL, where transactions run side by side and a writer
 * that must see every committed change first locks the row. SQLite has one connection that
 * runs one transaction at a time (and no FOR UPDATE): nothing to lock.
 */
export function forUpdate<Q extends { forUpdate(): Q }>(db: Executor, query: Q): Q {
  return isPostgres(db) ? query.forUpdate() : query;
}

/** `FOR KEY SHARE` on PostgreSQL: the row cannot be deleted (nor its key changed) until the transaction ends. */
export function forKeyShare<Q extends { forKeyShare(): Q }>(db: Executor, query: Q): Q {
  return isPostgres(db) ? query.forKeyShare() : query;
}

/** How many rows the query selects (its selection and ordering set aside). */
export async function countOf<DBX, TB extends keyof DBX, O>(query: SelectQueryBuilder<DBX, TB, O>): Promise<number> {
  const row = await query
    .clearSelect()
    .clearOrderBy()
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  // PostgreSQL returns COUNT as a string.
  return Number((row as { count: number | string }).count);
}

/**
 * A list for `paginate`: the count and one page of the same ordered query, so the two can
 * never disagree about which rows the list holds.
 */
export function listQuery<DBX, TB extends keyof DBX, O>(query: SelectQueryBuilder<DBX, TB, O>): ListQuery<O> {
  return {
    count: () => countOf(query),
    rows: (page: PageRequest) => query.limit(page.limit).offset(page.offset).execute(),
  };
}
