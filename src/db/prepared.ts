import { CompiledQuery } from 'kysely';
import type { Compilable, Kysely, Transaction } from 'kysely';
import { dialectOf } from './index.js';
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
 * (comparisons, limits), never look at them, and the query's shape must not depend on them,
 * except through how many there are: a builder with a rest parameter is compiled once per
 * count, which covers `in` lists.
 *
 *     const findItem = preparedQuery((db, id: number) => itemQuery(db).where('c.id', '=', id));
 *     const rows = await findItem(db, 42);
 *     const itemsByIds = preparedQuery((db, ...ids: number[]) => itemQuery(db).where('c.id', 'in', ids));
 */
export function preparedQuery<V extends unknown[], R>(build: (db: Kysely<DB>, ...values: V) => Compilable<R>) {
  const templates = new Map<string, Template>();
  return async (db: Executor, ...values: V): Promise<R[]> => {
    const shape = `${dialectOf(db)} ${values.length}`;
    let template = templates.get(shape);
    if (!template) {
      const slots = values.map((_, index) => new Slot(index)) as V;
      template = build(db, ...slots).compile();
      if (!template.parameters.some((p) => p instanceof Slot) && values.length > 0) {
        throw new Error('preparedQuery: the builder used none of its values');
      }
      templates.set(shape, template);
    }
    const parameters = template.parameters.map((p) => (p instanceof Slot ? values[p.index] : p));
    return (await db.executeQuery<R>(CompiledQuery.raw(template.sql, parameters))).rows;
  };
}
