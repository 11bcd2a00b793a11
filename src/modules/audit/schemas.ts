import { Type } from 'typebox';
import type { Static } from 'typebox';
import { PageQuery, PageSchema } from '../../shared/pagination.js';
import { named } from '../../shared/openapi.js';
import { Id, Nullable } from '../../shared/schemas.js';
import { PublicUserSchema } from '../users/schemas.js';

export const AuditEntrySchema = named(
  'AuditEntry',
  Type.Object({
    id: Type.Integer(),
    actor: Nullable(PublicUserSchema),
    action: Type.String(),
    target_type: Type.String(),
    target_id: Nullable(Type.Integer()),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'What changed; never a password, token or secret' }),
    ip: Type.String(),
    request_id: Type.String({ description: "The request's X-Request-Id" }),
    created_at: Type.String({ format: 'date-time' }),
  }),
);
export type AuditEntryView = Static<typeof AuditEntrySchema>;
export const AuditEntryPage = PageSchema(AuditEntrySchema);

const When = Type.String({ maxLength: 40, description: 'An ISO 8601 date (YYYY-MM-DD) or date-time' });

export const AuditQuery = Type.Object({
  ...PageQuery,
  actor: Type.Optional(Id({ description: "The acting user's id" })),
  action: Type.Optional(Type.String({ maxLength: 40 })),
  target_type: Type.Optional(Type.String({ maxLength: 40 })),
  target_id: Type.Optional(Id()),
  from: Type.Optional(When),
  to: Type.Optional(When),
});
export type AuditQueryInput = Static<typeof AuditQuery>;
