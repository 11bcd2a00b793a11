import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as catalog from './0002_catalog.js';
import * as fileCleanup from './0003_file_cleanup.js';

/** Every migration, by name; names sort in the order they apply. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_catalog': catalog,
  '0003_file_cleanup': fileCleanup,
};
