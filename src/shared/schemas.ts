import { Type } from 'typebox';
import type { Plugin } from 'ajv';

/** PostgreSQL's `integer`: ids past it would make the database, not the caller, fail. */
export const MAX_ID = 2_147_483_647;

/** The keyword that holds an id given as text to plain decimal notation. */
export const DECIMAL_ID_KEYWORD = 'x-decimal-id';

const DECIMAL_ID = /^[1-9][0-9]{0,9}$/;

/**
 * A database id given by a client (path, query or body): out of range is a 404/400, never a
 * 5xx. Text must be plain decimal: Ajv's coercion would read `0x1` or `1e0` as 1, giving one
 * object many URLs. So the coercing `integer` sits under `allOf`, after the keyword has seen
 * the text as sent (Ajv coerces a schema's own `type` before any of its keywords run).
 */
export const Id = (options: { description?: string } = {}) =>
  Type.Unsafe<number>({
    ...options,
    [DECIMAL_ID_KEYWORD]: true,
    allOf: [{ type: 'integer', minimum: 1, maximum: MAX_ID }],
  });

/**
 * The id a client's text names, read as the Id schema reads it (plain decimal, 1 to MAX_ID),
 * or null when it names none: for code that runs before validation (a preParsing hook).
 */
export function idFromText(text: unknown): number | null {
  if (typeof text !== 'string' || !DECIMAL_ID.test(text)) return null;
  const id = Number(text);
  return id <= MAX_ID ? id : null;
}

/** Ajv plugin (Fastify's `ajv.plugins`; Ajv is Fastify's validator) that defines DECIMAL_ID_KEYWORD. */
export const decimalIds: Plugin<unknown> = (ajv) =>
  ajv.addKeyword({
    keyword: DECIMAL_ID_KEYWORD,
    // Before allOf, whose integer coerces the text in place.
    before: 'allOf',
    schemaType: 'boolean',
    validate: (enabled: boolean, data: unknown) => !enabled || typeof data !== 'string' || DECIMAL_ID.test(data),
  });

/** A value or null (a field that may be cleared, an optional relation). */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
