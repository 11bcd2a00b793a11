import { CompiledQuery } from 'kysely';
import type { Compilable, Kysely, Transaction } from 'kysely';
import { dialectOf } from './index.js';
import type { Dialect } from './index.js';
import type { DB } from './types.js';

type Executor = Kysely<DB> | Transaction<DB>;

/** Stands in for a value while the query is built; never reaches the database. */
class Slot {
  constructor(readonly index: number) {}
}

interface Template {
  sql: string;
  parameters: readonly unknown[];
}

/**
 * A query built and compiled once per dialect, then run with fresh values. Kysely builds and
 * compiles a query anew on every call, about 45 µs for the three-table course item: longer
 * than SQLite takes to run it, and most of what separates a detail request from the floor.
 *
 * The builder is given placeholders, not values: it must use them only as values of the query
 * (comparisons, limits), never look at them, and the query's shape must not depend on them (a
 * list of varying length or an optional condition is compiled per call, as usual).
 *
 *     const findItem = preparedQuery((db, id: number) => itemQuery(db).where('c.id', '=', id));
 *     const rows = await findItem(db, 42);
 */
export function preparedQuery<V extends unknown[], R>(build: (db: Kysely<DB>, ...values: V) => Compilable<R>) {
  const templates = new Map<Dialect, Template>();
  return async (db: Executor, ...values: V): Promise<R[]> => {
    const dialect = dialectOf(db as unknown as Kysely<unknown>);
    let template = templates.get(dialect);
    if (!template) {
      const slots = values.map((_, index) => new Slot(index)) as V;
      template = build(db, ...slots).compile();
      if (!template.parameters.some((p) => p instanceof Slot) && values.length > 0) {
        throw new Error('preparedQuery: the builder used none of its values');
      }
      templates.set(dialect, template);
    }
    const parameters = template.parameters.map((p) => (p instanceof Slot ? values[p.index] : p));
    return (await db.executeQuery<R>(CompiledQuery.raw(template.sql, parameters))).rows;
  };
}
