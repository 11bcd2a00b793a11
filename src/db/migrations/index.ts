import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as catalog from './0002_catalog.js';
import * as fileCleanup from './0003_file_cleanup.js';
import * as outboxAudit from './0003_outbox_audit.js';
import * as sections from './0004_sections.js';
import * as quizzesCertificates from './0005_quizzes_certificates.js';
import * as moderation from './0006_moderation.js';
import * as webhooksPrivacy from './0007_webhooks_privacy.js';
import * as search from './0008_search.js';
import * as caseKeys from './0009_case_keys.js';
import * as outboxPending from './0010_outbox_pending.js';

/** Every migration, by name; names sort in the order they apply. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_catalog': catalog,
  '0003_file_cleanup': fileCleanup,
  '0003_outbox_audit': outboxAudit,
  '0004_sections': sections,
  '0005_quizzes_certificates': quizzesCertificates,
  '0006_moderation': moderation,
  '0007_webhooks_privacy': webhooksPrivacy,
  '0008_search': search,
  '0009_case_keys': caseKeys,
  '0010_outbox_pending': outboxPending,
};
