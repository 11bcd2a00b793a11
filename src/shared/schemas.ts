import { Type } from 'typebox';

/** PostgreSQL's `integer`: ids past it would make the database, not the caller, fail. */
export const MAX_ID = 2_147_483_647;

/** A database id given by a client (path, query or body): out of range is a 404/400, never a 5xx. */
export const Id = (options: { description?: string } = {}) => Type.Integer({ minimum: 1, maximum: MAX_ID, ...options });

/** A value or null (a field that may be cleared, an optional relation). */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
