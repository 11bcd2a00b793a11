import { randomBytes } from 'node:crypto';
import type { Kysely, Updateable } from 'kysely';
import { writeTransaction } from '../../db/transaction.js';
import type { Executor } from '../../db/query.js';
import type { DB, Role, WebhookEndpointTable } from '../../db/types.js';
import type { RequestContext, UserContext } from '../../shared/context.js';
import { forbidden, invalidField, notFound, unauthorized } from '../../shared/errors.js';
import { pageRequest, paginate } from '../../shared/pagination.js';
import type { Page } from '../../shared/pagination.js';
import { toBool, toIso, toIsoOrNull } from '../../shared/time.js';
import type { AuditEntry } from '../audit/service.js';
import { AddressRefused, checkedAddresses } from './addresses.js';
import type { Resolver } from './addresses.js';
import { canManageEndpoint, endpointCreationDenial } from './policy.js';
import * as repo from './repository.js';
import type {
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointCreated,
  WebhookEndpointInput,
  WebhookEndpointPatchInput,
  WebhookListQueryInput,
} from './schemas.js';
import { EVENT_TYPES } from './service.js';

/** What this module needs of the users module: the caller as the database says now. */
export interface UsersPort {
  findActive(id: number): Promise<{ role: Role; instructorStatus: string } | undefined>;
}

/** What this module needs of the audit module. */
export interface AuditPort {
  record(trx: Executor, ctx: RequestContext, entry: AuditEntry): Promise<void>;
}

export interface WebhooksServiceDeps {
  db: Kysely<DB>;
  audit: AuditPort;
  users: () => UsersPort;
  resolve: Resolver;
  allowPrivate: boolean;
  now: () => Date;
  /** The delivery worker: a retried delivery goes now. */
  wake(): void;
}

type EndpointRow = Awaited<ReturnType<typeof repo.findEndpoint>> & {};

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

const toEndpoint = (row: EndpointRow): WebhookEndpoint => ({
  id: row.id,
  url: row.url,
  events: JSON.parse(row.events) as string[],
  is_active: toBool(row.is_active),
  created_at: toIso(row.created_at),
});

const toDelivery = (row: repo.DeliveryListRow): WebhookDelivery => ({
  id: row.id,
  event_id: row.event_id,
  type: row.type,
  status: row.status,
  attempts: row.attempts,
  last_status_code: row.last_status_code,
  last_error: row.last_error,
  next_attempt_at: row.status === 'pending' ? toIso(row.next_attempt_at) : null,
  delivered_at: toIsoOrNull(row.delivered_at),
  created_at: toIso(row.created_at),
});

/** The URL as the audit log may keep it: no credentials, no query string (receivers put tokens there). */
function auditUrl(raw: string): string {
  const url = new URL(raw);
  return `${url.origin}${url.pathname}`;
}

/** `whsec_` + base64 of 32 random bytes: the Standard Webhooks secret format. */
export const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export type WebhooksService = ReturnType<typeof createWebhooksService>;

export function createWebhooksService(deps: WebhooksServiceDeps) {
  const { db } = deps;

  /** http(s) only, no credentials, and (unless allowed) every address the name resolves to is public. */
  async function checkUrl(raw: string): Promise<string> {
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (/[\u0000-\u001f\u007f\s]/.test(raw)) throw invalidField('url', 'Enter a valid URL.');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalidField('url', 'Enter a valid URL.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidField('url', 'The URL must use http or https.', 'url_scheme');
    if (url.username || url.password) throw invalidField('url', 'The URL may not contain a user name or password.');
    if (!url.hostname) throw invalidField('url', 'Enter a valid URL.');
    try {
      await checkedAddresses(url.hostname, deps.resolve, deps.allowPrivate);
    } catch (error) {
      if (error instanceof AddressRefused) throw invalidField('url', error.message, 'url_not_allowed');
      throw error;
    }
    return url.toString();
  }

  /** Known types, each once; `*` alone stands for all. */
  function checkEvents(given: string[]): string[] {
    const unknown = given.filter((t) => t !== '*' && !KNOWN_TYPES.has(t));
    if (unknown.length > 0) throw invalidField('events', `"${unknown[0]}" is not a valid event type.`);
    if (given.includes('*')) return ['*'];
    return [...new Set(given)];
  }

  /** The endpoint if the caller may manage it; 404 otherwise (as if it did not exist). */
  async function managed(ctx: UserContext, id: number): Promise<EndpointRow> {
    const row = await repo.findEndpoint(db, id);
    if (!row || !canManageEndpoint(ctx.viewer, row)) throw notFound();
    return row;
  }

  return {
    /** Refuses a caller who may not manage the endpoint (404 or 403), before the body is read. */
    async checkManaged(ctx: UserContext, id: number): Promise<void> {
      await managed(ctx, id);
    },

    async create(ctx: UserContext, input: WebhookEndpointInput): Promise<WebhookEndpointCreated> {
      const user = await deps.users().findActive(ctx.viewer.id);
      if (!user) throw unauthorized('User not found or inactive.');
      const denial = endpointCreationDenial(user.role, user.instructorStatus);
      if (denial) throw forbidden(denial, 'instructor_not_approved');
      const events = checkEvents(input.events);
      const url = await checkUrl(input.url);
      const now = deps.now().toISOString();
      const row = await writeTransaction(db, async (trx) => {
        const inserted = await repo.insertEndpoint(trx, {
          owner_id: ctx.viewer.id,
          url,
          events: JSON.stringify(events),
          secret: newSecret(),
          is_active: true,
          created_at: now,
          updated_at: now,
        });
        await deps.audit.record(trx, ctx, {
          action: 'webhook.created',
          target: { type: 'webhook', id: inserted.id },
          data: { url: auditUrl(url), events, is_active: true },
        });
        return inserted;
      });
      return { ...toEndpoint(row), secret: row.secret };
    },

    async list(ctx: UserContext, query: WebhookListQueryInput): Promise<Page<WebhookEndpoint>> {
      const ownerId = ctx.viewer.role === 'admin' ? null : ctx.viewer.id;
      return paginate(ctx, pageRequest(query), repo.listEndpoints(db, ownerId), (rows) => rows.map(toEndpoint));
    },

    async get(ctx: UserContext, id: number): Promise<WebhookEndpoint> {
      return toEndpoint(await managed(ctx, id));
    },

    /** PATCH `url, events, is_active`; nothing that changes: 200 and the endpoint as it is. */
    async update(ctx: UserContext, id: number, input: WebhookEndpointPatchInput): Promise<WebhookEndpoint> {
      const row = await managed(ctx, id);
      const changes: Updateable<WebhookEndpointTable> = {};
      const changed: Record<string, unknown> = {};
      if (input.events !== undefined) {
        const events = checkEvents(input.events);
        if (JSON.stringify(events) !== row.events) {
          changes.events = JSON.stringify(events);
          changed.events = events;
        }
      }
      if (input.url !== undefined) {
        const url = await checkUrl(input.url);
        if (url !== row.url) {
          changes.url = url;
          changed.url = auditUrl(url);
        }
      }
      if (input.is_active !== undefined && input.is_active !== toBool(row.is_active)) {
        changes.is_active = input.is_active;
        changed.is_active = input.is_active;
      }
      if (Object.keys(changes).length === 0) return toEndpoint(row);
      changes.updated_at = deps.now().toISOString();
      const updated = await writeTransaction(db, async (trx) => {
        const after = await repo.updateEndpoint(trx, id, changes);
        if (!after) throw notFound();
        await deps.audit.record(trx, ctx, { action: 'webhook.updated', target: { type: 'webhook', id }, data: changed });
        return after;
      });
      return toEndpoint(updated);
    },

    /** The endpoint and its delivery log go. */
    async remove(ctx: UserContext, id: number): Promise<void> {
      const row = await managed(ctx, id);
      await writeTransaction(db, async (trx) => {
        if (!(await repo.deleteEndpoint(trx, id))) throw notFound();
        await deps.audit.record(trx, ctx, {
          action: 'webhook.deleted',
          target: { type: 'webhook', id },
          data: { url: auditUrl(row.url), owner: row.owner_id },
        });
      });
    },

    async deliveries(ctx: UserContext, id: number, query: WebhookListQueryInput): Promise<Page<WebhookDelivery>> {
      await managed(ctx, id);
      return paginate(ctx, pageRequest(query), repo.listDeliveries(db, id), (rows) => rows.map(toDelivery));
    },

    /** The delivery goes again now (a failed one gets one more attempt; a delivered one is sent again). */
    async retry(ctx: UserContext, id: number, deliveryId: number): Promise<{ detail: string }> {
      await managed(ctx, id);
      const delivery = await repo.findDelivery(db, id, deliveryId);
      if (!delivery) throw notFound();
      await repo.retryDelivery(db, deliveryId, deps.now().toISOString());
      deps.wake();
      return { detail: 'The delivery will be attempted again now.' };
    },

    /** For erasure: an erased account's endpoints go with it. */
    removeAllOf: (trx: Executor, ownerId: number) => repo.deleteEndpointsOf(trx, ownerId),

    deliveryCounts: () => repo.deliveryCounts(db),
  };
}
