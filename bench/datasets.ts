import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createDatabase } from '../src/db/index.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { generateDataset } from './generate.js';
import type { DatasetSize, GenerateResult } from './generate.js';
import type { Progress } from './progress.js';

export const DATA_DIR = path.resolve(import.meta.dirname, '.data');
/** Bump when the generator changes what it writes, so old cached data sets are not reused. */
const GENERATOR_VERSION = 2;

export interface Dataset {
  kind: 'sqlite' | 'postgres';
  /** What the server and the floor are given as DATABASE_URL. */
  url: string;
  name: string;
  size: DatasetSize;
  /** Null when an earlier, complete copy was reused. */
  generated: GenerateResult | null;
  /** Removes the data set unless it is to be kept. */
  release(): Promise<void>;
}

/**
 * The migrations that shape what the generator writes. A later migration only adds (indexes,
 * search tables, columns with defaults) and is applied to a reused copy when the server starts
 * (`migrateToLatest` in src/server.ts), so it does not force a new data set; one that changes
 * what the generator must write bumps GENERATOR_VERSION instead.
 */
const DATA_MIGRATIONS = ['0001_initial', '0002_catalog', '0005_quizzes_certificates'];

/**
 * A data set is named after everything that shapes it (sizes, seed, migrations, generator
 * version), so a rerun with the same flags can reuse a finished copy instead of writing it
 * again. SQLite copies live under bench/.data/ and are kept (delete the folder to reclaim the
 * space); a PostgreSQL copy is a fresh database that is dropped at the end unless --keep.
 */
export function datasetName(size: DatasetSize, seed: number): string {
  const identity = JSON.stringify({ size, seed, migrations: DATA_MIGRATIONS, v: GENERATOR_VERSION });
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 10);
  return `lp_bench_${size.courses}c_${hash}`;
}

export interface DatasetOptions {
  target: string;
  size: DatasetSize;
  seed: number;
  keep: boolean;
  fresh: boolean;
  progress: Progress;
}

export async function prepareDataset(options: DatasetOptions): Promise<Dataset> {
  return options.target === 'sqlite' ? prepareSqlite(options) : preparePostgres(options);
}

async function fill(url: string, options: DatasetOptions): Promise<GenerateResult> {
  const database = createDatabase(url, { poolSize: 2 });
  try {
    await migrateToLatest(database.db);
    return await generateDataset(database.db, options.size, { seed: options.seed, progress: options.progress });
  } finally {
    await database.close();
  }
}

async function prepareSqlite(options: DatasetOptions): Promise<Dataset> {
  const name = datasetName(options.size, options.seed);
  mkdirSync(DATA_DIR, { recursive: true });
  const file = path.join(DATA_DIR, `${name}.sqlite3`);
  const ready = `${file}.ready`;
  const remove = () => {
    for (const suffix of ['', '-wal', '-shm', '.ready']) rmSync(`${file}${suffix}`, { force: true });
  };
  const url = `sqlite:${file}`;
  let generated: GenerateResult | null = null;
  if (options.fresh || !existsSync(ready)) {
    remove();
    generated = await fill(url, options);
    writeFileSync(ready, `${new Date().toISOString()}\n`);
  }
  return {
    kind: 'sqlite',
    url,
    name,
    size: options.size,
    generated,
    // Kept for the next run either way: writing it is the expensive part.
    release: async () => {},
  };
}

async function adminQuery(adminUrl: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

const READY_COMMENT = 'lp-bench: complete';

async function preparePostgres(options: DatasetOptions): Promise<Dataset> {
  const adminUrl = options.target;
  const name = datasetName(options.size, options.seed);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const existing = await adminQuery(
    adminUrl,
    `select shobj_description(oid, 'pg_database') as comment from pg_database where datname = '${name}'`,
  );
  const complete = (existing.rows[0] as { comment: string | null } | undefined)?.comment === READY_COMMENT;
  let generated: GenerateResult | null = null;
  if (options.fresh || !complete) {
    await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    await adminQuery(adminUrl, `create database ${name}`);
    generated = await fill(url.toString(), options);
    await adminQuery(adminUrl, `comment on database ${name} is '${READY_COMMENT}'`);
  }
  return {
    kind: 'postgres',
    url: url.toString(),
    name,
    size: options.size,
    generated,
    release: async () => {
      if (options.keep) return;
      await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}
