import { Type } from 'typebox';
import type { Static } from 'typebox';
import { PageQuery, PageSchema } from '../../shared/pagination.js';
import { named } from '../../shared/openapi.js';
import { Id, Nullable } from '../../shared/schemas.js';

export const MAX_URL_LENGTH = 2000;

const Url = Type.String({ minLength: 1, maxLength: MAX_URL_LENGTH, description: 'An http or https URL on a public address' });
const Events = Type.Array(Type.String({ maxLength: 40 }), {
  minItems: 1,
  maxItems: 20,
  description: 'Event types to receive, or `["*"]` for every type',
});

export const WebhookEndpointSchema = named(
  'WebhookEndpoint',
  Type.Object({
    id: Type.Integer(),
    url: Type.String({ format: 'uri' }),
    events: Type.Array(Type.String()),
    is_active: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
  }),
);
export type WebhookEndpoint = Static<typeof WebhookEndpointSchema>;

export const WebhookEndpointCreatedSchema = named(
  'WebhookEndpointCreated',
  Type.Object({
    id: Type.Integer(),
    url: Type.String({ format: 'uri' }),
    events: Type.Array(Type.String()),
    is_active: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    secret: Type.String({ description: '`whsec_` + base64 of the signing key; returned only here' }),
  }),
);
export type WebhookEndpointCreated = Static<typeof WebhookEndpointCreatedSchema>;

export const WebhookEndpointBody = named('WebhookEndpointRequest', Type.Object({ url: Url, events: Events }));
export type WebhookEndpointInput = Static<typeof WebhookEndpointBody>;

export const WebhookEndpointPatchBody = named(
  'PatchedWebhookEndpointRequest',
  Type.Object({
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    is_active: Type.Optional(Type.Boolean()),
  }),
);
export type WebhookEndpointPatchInput = Static<typeof WebhookEndpointPatchBody>;

export const DeliveryStatusSchema = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]);

export const WebhookDeliverySchema = named(
  'WebhookDelivery',
  Type.Object({
    id: Type.Integer(),
    event_id: Type.String(),
    type: Type.String(),
    status: DeliveryStatusSchema,
    attempts: Type.Integer(),
    last_status_code: Nullable(Type.Integer()),
    last_error: Nullable(Type.String()),
    next_attempt_at: Nullable(Type.String({ format: 'date-time', description: 'null once delivered or failed' })),
    delivered_at: Nullable(Type.String({ format: 'date-time' })),
    created_at: Type.String({ format: 'date-time' }),
  }),
);
export type WebhookDelivery = Static<typeof WebhookDeliverySchema>;
export const WebhookDeliveryPage = PageSchema(WebhookDeliverySchema);

export const WebhookListQuery = Type.Object({ ...PageQuery });
export type WebhookListQueryInput = Static<typeof WebhookListQuery>;

export const WebhookIdParams = Type.Object({ id: Id() });
export const DeliveryIdParams = Type.Object({ id: Id(), delivery_id: Id() });

export const RetryAccepted = named('WebhookRetryAccepted', Type.Object({ detail: Type.String() }));
