import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as catalog from './0002_catalog.js';
import * as outboxAudit from './0003_outbox_audit.js';
import * as search from './0008_search.js';

/** Every migration, by name; names sort in the order they apply. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_catalog': catalog,
  '0003_outbox_audit': outboxAudit,
  '0008_search': search,
};
