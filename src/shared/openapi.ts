import { Type } from 'typebox';
import type { TBoolean, TSchema, TString } from 'typebox';

/**
 * Names a schema for the OpenAPI document: the docs hoist every named schema into
 * `components.schemas` and reference it with `$ref`, as drf-spectacular names serializers
 * (`Course`, `CourseDetail`, `PaginatedCourseList`, `PatchedCourseRequest`). The name rides
 * on the schema's `title`, so validation, serialization and the TypeScript type are the
 * same object as before. Name a schema where it is defined, once.
 */
export function named<T extends TSchema>(name: string, schema: T): T {
  (schema as { title?: string }).title = name;
  const list = namedSchemas.get(name) ?? [];
  if (!list.includes(schema)) list.push(schema);
  namedSchemas.set(name, list);
  return schema;
}

/**
 * Every schema given a name, by name: the docs reference an anonymous copy of a named shape
 * (`Type.Object(X.properties, {description})`) by that name too.
 */
export const namedSchemas = new Map<string, TSchema[]>();

export function schemaName(schema: TSchema): string | undefined {
  const title = (schema as { title?: unknown }).title;
  return typeof title === 'string' ? title : undefined;
}

/**
 * A boolean query parameter. Requests may send any of DRF's boolean literals, in any case
 * (`true/True/1/on`, `false/False/0/off`, as django-filter's BooleanWidget lowercases them);
 * empty means not given. The forms plugin turns the literals into booleans before validation,
 * so anything else fails it: a 400 on the parameter. The service gets `boolean | undefined`.
 */
export const QUERY_FLAG = 'x-query-flag';

export function QueryFlag(options: { description?: string } = {}): TBoolean {
  return Type.Boolean({ ...options, [QUERY_FLAG]: true });
}

/**
 * Marks a query parameter that the service reads as a whole number (`page`, `page_size`):
 * it stays text at validation (DRF's own fallbacks apply) and the document types it as an
 * integer, which the service accepts.
 */
export const QUERY_INTEGER = 'x-query-integer';

export function QueryInteger(options: { description?: string; examples?: string[] } = {}): TString {
  return Type.String({ ...options, [QUERY_INTEGER]: true });
}

/** Keywords the validator must know (annotations only). */
export const OPENAPI_KEYWORDS = [QUERY_FLAG, QUERY_INTEGER];
