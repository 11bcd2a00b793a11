import type { Executor } from '../../db/query.js';
import type { RequestContext } from '../../shared/context.js';
import { nowIso } from '../../shared/time.js';
import * as repo from './repository.js';

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

export type AuditService = ReturnType<typeof createAuditService>;

export function createAuditService() {
  return {
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
