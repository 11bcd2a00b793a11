import type { ColumnDataType, CreateTableBuilder, Kysely } from 'kysely';
import { dialectOf } from '../index.js';

/** The few column types that differ between SQLite and PostgreSQL, in one place. */
export function columnTypes(db: Kysely<unknown>) {
  const postgres = dialectOf(db) === 'postgres';
  return {
    postgres,
    timestamp: (postgres ? 'timestamptz' : 'text') as ColumnDataType,
    real: (postgres ? 'double precision' : 'real') as ColumnDataType,
  };
}

export function withId<T extends string>(db: Kysely<unknown>, table: CreateTableBuilder<T, never>) {
  return dialectOf(db) === 'postgres'
    ? table.addColumn('id', 'serial', (c) => c.primaryKey())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}
