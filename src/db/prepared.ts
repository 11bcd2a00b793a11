import { CompiledQuery } from 'kysely';
import type { Compilable, Kysely, SelectQueryBuilder } from 'kysely';
import type { ListQuery, PageRequest } from '../shared/pagination.js';
import { dialectOf } from './index.js';
import type { Executor } from './query.js';
import type { DB } from './types.js';

/** Stands in for a value while the query is built; never reaches the database. */
class Slot {
  constructor(readonly index: number) {}
}

interface Template {
  sql: string;
  parameters: readonly unknown[];
}

/**
 * Templates by shape, the least recently used dropped past `max`: shapes can follow client
 * input (every ordering permutation is one), so the memory they hold must not.
 */
function templateCache(max: number) {
  const templates = new Map<string, Template>();
  return (key: string, compile: () => Template): Template => {
    let template = templates.get(key);
    if (template) {
      templates.delete(key);
    } else {
      template = compile();
      if (templates.size >= max) templates.delete(templates.keys().next().value as string);
    }
    templates.set(key, template);
    return template;
  };
}

function compileWithSlots(compilable: Compilable<unknown>, valueCount: number): Template {
  const template = compilable.compile();
  if (valueCount > 0 && !template.parameters.some((p) => p instanceof Slot)) {
    throw new Error('prepared query: the builder used none of its values');
  }
  return template;
}

async function run<R>(db: Executor, template: Template, valueOf: (slot: Slot) => unknown): Promise<R[]> {
  const parameters = template.parameters.map((p) => (p instanceof Slot ? valueOf(p) : p));
  return (await db.executeQuery<R>(CompiledQuery.raw(template.sql, parameters))).rows;
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
  const cache = templateCache(256);
  return async (db: Executor, ...values: V): Promise<R[]> => {
    const template = cache(`${dialectOf(db)} ${values.length}`, () => {
      const slots = values.map((_, index) => new Slot(index)) as V;
      return compileWithSlots(build(db, ...slots), values.length);
    });
    return run<R>(db, template, (slot) => values[slot.index]);
  };
}

/**
 * A family of prepared queries for a builder whose shape depends on part of its input: which
 * filters are given, the ordering. `shape` is everything the builder may branch on (it becomes
 * part of the cache key, so keep it small and JSON-serialisable); `values` are used only as
 * values, and one that is `undefined` is absent (a builder tests `values.x !== undefined` to
 * add its condition, and is compiled once per set of present values). Every list with optional
 * filters runs through the same builder whether or not it is hot, so a fast path is never a
 * second copy of a query. At most `maxShapes` compiled shapes are kept.
 *
 *     const page = preparedShapes((db, sort: Sort, v: { courseId?: number; limit: number; offset: number }) => ...);
 *     const rows = await page(db, sort, { courseId, limit, offset });
 */
export function preparedShapes<S, V extends Record<string, unknown>, R>(
  build: (db: Kysely<DB>, shape: S, values: V) => Compilable<R>,
  options: { maxShapes?: number } = {},
) {
  const cache = templateCache(options.maxShapes ?? 256);
  return async (db: Executor, shape: S, values: V): Promise<R[]> => {
    const names = Object.keys(values)
      .filter((name) => values[name] !== undefined)
      .sort();
    const template = cache(`${dialectOf(db)} ${JSON.stringify(shape)} ${names.join(',')}`, () => {
      const slots = Object.fromEntries(names.map((name, index) => [name, new Slot(index)])) as V;
      return compileWithSlots(build(db, shape, slots), names.length);
    });
    return run<R>(db, template, (slot) => values[names[slot.index] as string]);
  };
}

/**
 * A prepared list for `paginate`: the count and the page of one builder, each prepared per
 * shape as `preparedShapes` does, so the two always describe the same rows.
 */
export function preparedList<S, V extends Record<string, unknown>, DBX, TB extends keyof DBX, O>(
  build: (db: Kysely<DB>, shape: S, values: V) => SelectQueryBuilder<DBX, TB, O>,
  options: { maxShapes?: number } = {},
) {
  const counts = preparedShapes(
    (db, shape: S, values: V) =>
      build(db, shape, values)
        .clearSelect()
        .clearOrderBy()
        .select((eb) => eb.fn.countAll().as('count')),
    options,
  );
  const pages = preparedShapes(
    (db, shape: S, values: V & { limit: number; offset: number }) => build(db, shape, values).limit(values.limit).offset(values.offset),
    options,
  );
  return (db: Executor, shape: S, values: V): ListQuery<O> => ({
    count: async () => Number(((await counts(db, shape, values))[0] as { count: number | string }).count),
    rows: (page: PageRequest) => pages(db, shape, { ...values, limit: page.limit, offset: page.offset }),
  });
}
