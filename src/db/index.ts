import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresAdapter, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult, SqliteDatabase, SqliteStatement } from 'kysely';
import pg from 'pg';
import { sqliteFile } from '../config.js';
import type { DB } from './types.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  dialect: Dialect;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Another handle on the same database with connections of its own, for background work
   * that must not queue behind the API's requests for a pooled connection (the webhook
   * worker). PostgreSQL: a pool of `size` connections, shown in pg_stat_activity under
   * `applicationName`; close it separately. SQLite: the same single in-process connection
   * (its queries run synchronously, so nothing queues), and closing it does nothing.
   */
  dedicated(size: number, applicationName: string): Database;
}

/** Anything that runs queries: a Kysely instance or a transaction, over any schema. */
type QueryRunner = Pick<Kysely<unknown>, 'getExecutor'>;

export function dialectOf(db: QueryRunner): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Row locks (`FOR UPDATE`) exist on PostgreSQL; SQLite's one writer at a time needs none. */
export const isPostgres = (db: QueryRunner): boolean => dialectOf(db) === 'postgres';

const STATEMENT_CACHE_SIZE = 1000;
const INT8: number = pg.types.builtins.INT8;
const NUMERIC: number = pg.types.builtins.NUMERIC;

/**
 * Kysely's SQLite driver prepares every query anew; better-sqlite3 statements are reusable,
 * so keep them by SQL text. It is also the one place that maps booleans to 0/1, which
 * better-sqlite3 cannot bind.
 */
function withStatementCache(raw: SQLite.Database, observe: StatementObserver | undefined, onWrite: () => void): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  const bind = (params: ReadonlyArray<unknown>): unknown[] => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
  return {
    close: () => raw.close(),
    prepare(text: string): SqliteStatement {
      observe?.(text);
      let stmt = cache.get(text);
      if (!stmt) {
        stmt = raw.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        cache.set(text, stmt);
      }
      if (!stmt.readonly) onWrite();
      const prepared = stmt;
      return {
        reader: prepared.reader,
        all: (params) => prepared.all(bind(params)),
        run: (params) => prepared.run(bind(params)),
        iterate: (params) => prepared.iterate(bind(params)),
      };
    },
  };
}

function openSqlite(databaseUrl: string, observe: StatementObserver | undefined): Database {
  const file = sqliteFile(databaseUrl);
  if (file) mkdirSync(path.dirname(file), { recursive: true });
  const raw = new SQLite(file ?? ':memory:');
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  // Without statistics the planner takes an equality on any indexed column for a narrow one
  // (is_published leads the catalog's indexes), and counted one student's enrollments by
  // walking every published course: 105 ms instead of 0.05 ms at 100,000 courses. SQLite's
  // advice for long-lived connections: optimize at open (0x10002: every table, analysed with
  // a bounded sample) and now and then, so the statistics follow the data.
  raw.pragma(`analysis_limit = ${ANALYSIS_LIMIT}`);
  raw.pragma('optimize = 0x10002');
  const statistics = statisticsFollowGrowth(raw);
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(raw, observe, () => statistics.wrote()) }) });
  const database: Database = {
    db,
    dialect: 'sqlite',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => {
      statistics.stop();
      return db.destroy();
    },
    // The one connection answers synchronously: work on it never waits behind other work.
    dedicated: () => ({ ...database, close: async () => {} }),
  };
  return database;
}

/** Rows sampled per index by ANALYZE, which keeps `optimize` to milliseconds on large tables. */
const ANALYSIS_LIMIT = 1000;
/** A write-heavy stretch asks for `optimize` after this many writing statements… */
const WRITES_PER_OPTIMIZE = 500;
/** …but no sooner than this after the previous one… */
const OPTIMIZE_MIN_GAP_MS = 5_000;
/** …and it runs at least this often anyway (a cheap check when no table changed size much). */
const OPTIMIZE_EVERY_MS = 600_000;
/** Retry delay when the connection is inside a transaction (ANALYZE would join it). */
const OPTIMIZE_RETRY_MS = 50;

/**
 * Keeps the planner's statistics in step with a growing database. Statistics taken when the
 * server opened an almost empty database (sqlite_stat1: `users` has 1 row) otherwise steer
 * the planner until the next scheduled optimize: in the live-growth benchmark
 * (docs/benchmarks.md) the catalog ran at 0.14 of its speed after a restart, 0.76 with this.
 * `PRAGMA optimize` re-analyses only the tables whose size changed by a large factor since
 * their last ANALYZE (and bounded by analysis_limit), so running it after every few hundred
 * writes costs little once the data stops growing by factors, and it never runs inside a
 * transaction of the app's (it would join and lengthen it).
 */
function statisticsFollowGrowth(raw: SQLite.Database): { wrote(): void; stop(): void } {
  let writes = 0;
  let last = Date.now();
  let pending: NodeJS.Timeout | null = null;
  const optimize = () => {
    pending = null;
    if (!raw.open) return;
    if (raw.inTransaction) {
      pending = setTimeout(optimize, OPTIMIZE_RETRY_MS);
      pending.unref();
      return;
    }
    writes = 0;
    last = Date.now();
    raw.pragma('optimize = 0x10002');
  };
  const schedule = (delay: number) => {
    if (pending) return;
    pending = setTimeout(optimize, delay);
    pending.unref();
  };
  const periodic = setInterval(() => schedule(0), OPTIMIZE_EVERY_MS);
  periodic.unref();
  return {
    wrote() {
      if (++writes < WRITES_PER_OPTIMIZE || pending) return;
      schedule(Math.max(0, last + OPTIMIZE_MIN_GAP_MS - Date.now()));
    },
    stop() {
      clearInterval(periodic);
      if (pending) clearTimeout(pending);
      pending = null;
    },
  };
}

/** How long to wait for a PostgreSQL connection (a new one, or a free one of the pool) before failing. */
const CONNECT_TIMEOUT_MS = 5_000;

/** Distinct statements given a name; past this many (a runaway of dynamic SQL), the rest stay unnamed. */
const NAMED_STATEMENTS = 1000;
const NAMEABLE = /^\s*(select|insert|update|delete|with)\b/i;

/**
 * PostgreSQL parses and plans an unnamed statement on every run, which costs more than
 * running the small indexed queries of this API. Kysely sends the same text for the same
 * query shape (values travel as parameters), so every distinct DML text gets a name: each
 * connection parses it once, and after a few runs keeps a generic plan if that is as good.
 */
function withNamedStatements(pool: pg.Pool, observe: StatementObserver | undefined): PostgresPool {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < NAMED_STATEMENTS && NAMEABLE.test(text)) {
      name = `lp_${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  };
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    function query<R>(sqlText: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
    function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
    function query<R>(textOrCursor: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>) {
      if (typeof textOrCursor !== 'string') return client.query(textOrCursor as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
      observe?.(textOrCursor);
      const result = client.query<R & pg.QueryResultRow>({
        name: nameOf(textOrCursor),
        text: textOrCursor,
        values: parameters as unknown[],
      });
      return result as unknown as Promise<PostgresQueryResult<R>>;
    }
    return { query, release: (destroy) => client.release(destroy) };
  };
  return {
    async connect() {
      const client = await pool.connect();
      let facade = wrapped.get(client);
      if (!facade) wrapped.set(client, (facade = wrap(client)));
      return facade;
    },
    end: () => pool.end(),
  };
}

function openPostgres(databaseUrl: string, poolSize: number, observe: StatementObserver | undefined, applicationName?: string): Database {
  // COUNT and SUM come back as BIGINT/NUMERIC strings by default; every count here fits a double.
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
      if (oid === INT8) return (v: string) => Number.parseInt(v, 10);
      if (oid === NUMERIC) return (v: string) => Number.parseFloat(v);
      return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
    },
  };
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize,
    types,
    // A server that does not answer (a host gone, a network cut) fails the request in bounded
    // time instead of holding it; so does a pool that stays full that long.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    ...(applicationName === undefined ? {} : { application_name: applicationName }),
  });
  // A client that loses its server must not crash the process, idle (the pool's 'error') or in
  // use (the client's own 'error', emitted besides failing its query): the query that was
  // running fails, the broken client is dropped when released, the next query connects anew.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: withNamedStatements(pool, observe) }) });
  return {
    db,
    dialect: 'postgres',
    ping: async () => {
      const client = await pool.connect();
      try {
        await client.query('select 1');
      } finally {
        client.release();
      }
    },
    close: () => db.destroy(),
    dedicated: (size, name) => openPostgres(databaseUrl, size, observe, name),
  };
}

/** Told the SQL text of every statement sent to the database (the benchmark compares the floor's with it). */
export type StatementObserver = (sql: string) => void;

export function createDatabase(databaseUrl: string, options: { poolSize?: number; observe?: StatementObserver } = {}): Database {
  return databaseUrl.startsWith('sqlite:')
    ? openSqlite(databaseUrl, options.observe)
    : openPostgres(databaseUrl, options.poolSize ?? 10, options.observe);
}
