import type { Kysely } from 'kysely';
import type { Executor } from '../../db/query.js';
import type { DB } from '../../db/types.js';
import type { RequestContext } from '../../shared/context.js';
import { FieldErrorCollector } from '../../shared/errors.js';
import { pageRequest, paginate } from '../../shared/pagination.js';
import type { Page } from '../../shared/pagination.js';
import { nowIso, toIso } from '../../shared/time.js';
import type { PublicUser } from '../users/schemas.js';
import * as repo from './repository.js';
import type { AuditEntryView, AuditQueryInput } from './schemas.js';

export const AUDIT_ACTIONS = [
  'user.approved',
  'user.rejected',
  'user.deactivated',
  'user.reactivated',
  'user.role_changed',
  'user.password_changed',
  'user.logged_out_everywhere',
  'user.erased',
  'course.published',
  'course.unpublished',
  'course.deleted',
  'category.created',
  'category.updated',
  'category.deleted',
  'review.hidden',
  'review.unhidden',
  'review.deleted',
  'certificate.revoked',
  'webhook.created',
  'webhook.updated',
  'webhook.deleted',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * One audited action: what was done, to what, and what changed. `data` never holds a
 * password, a token or a secret.
 */
export interface AuditEntry {
  action: AuditAction;
  target: { type: string; id: number | null };
  data?: Record<string, unknown>;
}

/** What this module needs of the users module. */
export interface UsersPort {
  toPublicUser(
    ctx: RequestContext,
    row: { id: number; username: string; first_name: string; last_name: string; bio: string; profile_image: string | null },
  ): PublicUser;
}

export interface AuditServiceDeps {
  db: Kysely<DB>;
  users: () => UsersPort;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** A real calendar day (2026-02-30 is not). */
function realDay(year: string, month: string, day: string): boolean {
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  return date.getUTCFullYear() === Number(year) && date.getUTCMonth() === Number(month) - 1 && date.getUTCDate() === Number(day);
}

/**
 * A `from`/`to` bound as an instant: a date is its whole day (from its start; to its end), a
 * date-time without a zone is UTC. Returns the ISO instant (for `to`: the first instant after
 * the bound), or null for a value that is neither.
 */
export function parseBound(raw: string, end: boolean): string | null {
  const value = raw.trim();
  const date = DATE.exec(value);
  if (date) {
    const [, y = '', m = '', d = ''] = date;
    if (!realDay(y, m, d)) return null;
    const start = Date.UTC(Number(y), Number(m) - 1, Number(d));
    return new Date(end ? start + 86_400_000 : start).toISOString();
  }
  const dateTime = DATE_TIME.exec(value);
  if (!dateTime) return null;
  const [, y = '', m = '', d = '', hh = '', mm = '', ss = '00'] = dateTime;
  if (!realDay(y, m, d) || Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59) return null;
  const ms = Date.parse(dateTime[7] ? value.replace(' ', 'T') : `${value.replace(' ', 'T')}Z`);
  if (Number.isNaN(ms)) return null;
  return new Date(end ? ms + 1 : ms).toISOString();
}

export type AuditService = ReturnType<typeof createAuditService>;

export function createAuditService(deps: AuditServiceDeps) {
  const { db } = deps;

  const toView = (ctx: RequestContext, row: repo.AuditListRow): AuditEntryView => ({
    id: row.id,
    actor:
      row.actor_id !== null && row.username !== null
        ? deps.users().toPublicUser(ctx, {
            id: row.actor_id,
            username: row.username,
            first_name: row.first_name ?? '',
            last_name: row.last_name ?? '',
            bio: row.bio ?? '',
            profile_image: row.profile_image,
          })
        : null,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
    ip: row.ip,
    request_id: row.request_id,
    created_at: toIso(row.created_at),
  });

  return {
    /** Admins: the log, newest first, filtered. Nothing changes or deletes an entry. */
    async list(ctx: RequestContext, query: AuditQueryInput): Promise<Page<AuditEntryView>> {
      const errors = new FieldErrorCollector();
      const bound = (field: 'from' | 'to') => {
        const raw = query[field];
        if (raw === undefined || raw === '') return undefined;
        const parsed = parseBound(raw, field === 'to');
        if (parsed === null) errors.add(field, 'Enter a valid date or date/time (ISO 8601).');
        return parsed ?? undefined;
      };
      const from = bound('from');
      const before = bound('to');
      errors.throwIfAny();
      const filters: repo.AuditFilters = {
        actorId: query.actor,
        action: query.action || undefined,
        targetType: query.target_type || undefined,
        targetId: query.target_id,
        from,
        before,
      };
      return paginate(ctx, pageRequest(query), repo.listEntries(db, filters), (rows) => rows.map((r) => toView(ctx, r)));
    },

    /**
     * Appends the entry inside the transaction of the action it records, with the request's
     * caller, address and request id. One call per action.
     */
    async record(trx: Executor, ctx: RequestContext, entry: AuditEntry): Promise<void> {
      await repo.insertEntry(trx, {
        actor_id: ctx.viewer?.id ?? null,
        action: entry.action,
        target_type: entry.target.type,
        target_id: entry.target.id,
        data: JSON.stringify(entry.data ?? {}),
        ip: ctx.ip,
        request_id: ctx.requestId,
        created_at: nowIso(),
      });
    },
  };
}
