import type { TSchema } from 'typebox';

/**
 * Names a schema for the OpenAPI document: the docs hoist every named schema into
 * `components.schemas` and reference it with `$ref`, as drf-spectacular names serializers
 * (`Course`, `CourseDetail`, `PaginatedCourseList`, `PatchedCourseRequest`). The name rides
 * on the schema's `title`, so validation, serialization and the TypeScript type are the
 * same object as before. Name a schema where it is defined, once.
 */
export function named<T extends TSchema>(name: string, schema: T): T {
  (schema as { title?: string }).title = name;
  return schema;
}

export function schemaName(schema: TSchema): string | undefined {
  const title = (schema as { title?: unknown }).title;
  return typeof title === 'string' ? title : undefined;
}
