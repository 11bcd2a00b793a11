import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import type { RouteAuth } from './auth.js';
import type { UploadField } from './uploads.js';
import { namedSchemas, QUERY_FLAG, QUERY_INTEGER } from '../shared/openapi.js';

/**
 * The OpenAPI document, shaped for client generators as drf-spectacular shapes it:
 * - every object schema named with `named()` (its `title`) is one entry of
 *   `components.schemas`, referenced with `$ref`; an anonymous object with exactly the shape
 *   of a named one is referenced too; two different shapes under one name fail at start;
 * - every operation has a unique `operationId` (`courses_list`, `courses_retrieve`,
 *   `courses_create`, `courses_update`, `courses_partial_update`, `courses_destroy`,
 *   `lessons_complete_create`: path words, then the action; a route may set its own) and a tag;
 * - request bodies are documented for JSON, form-urlencoded and multipart with one schema
 *   (file fields as binary);
 * - error responses come from here: 400 for a body or query string, 401 for any route (a bad
 *   token is refused everywhere), 403 for a route with a gate, 404 for a route with path
 *   parameters, 429 everywhere. They are documentation only: a route's own response
 *   schemas stay what it serializes;
 * - query parameters the services read as flags or page numbers are typed boolean/integer.
 * Nothing here changes how a request is validated or a response serialized.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

const ErrorDetail = {
  title: 'ErrorDetail',
  type: 'object',
  properties: {
    detail: { type: 'string' },
    code: { type: 'string', description: 'SimpleJWT\'s "token_not_valid" for a bad, expired or revoked token' },
    messages: {
      type: 'array',
      items: {
        title: 'TokenErrorMessage',
        type: 'object',
        properties: { token_class: { type: 'string' }, token_type: { type: 'string' }, message: { type: 'string' } },
        required: ['token_class', 'token_type', 'message'],
      },
    },
  },
  required: ['detail'],
};

const ValidationError = {
  title: 'ValidationError',
  type: 'object',
  description: 'Messages by field name; whole-object problems under non_field_errors; an unusable request under detail.',
  properties: {
    detail: { type: 'string' },
    non_field_errors: { type: 'array', items: { type: 'string' } },
  },
  additionalProperties: { type: 'array', items: { type: 'string' } },
};

const errorResponse = (description: string, schema: Json) => ({ description, content: { 'application/json': { schema } } });

/** Documented error responses of a route, from what it declares. */
function errorResponses(schema: FastifySchema, auth: RouteAuth | undefined, hasParams: boolean): Record<string, unknown> {
  const errors: Record<string, unknown> = {};
  if (schema.body || schema.querystring) errors['400'] = errorResponse('Invalid input', ValidationError);
  if (auth !== undefined) errors['401'] = errorResponse('No, bad, expired or revoked token', ErrorDetail);
  if (auth !== undefined && auth !== 'public') errors['403'] = errorResponse('Not allowed', ErrorDetail);
  if (hasParams) errors['404'] = errorResponse('Not found (or not visible to the caller)', ErrorDetail);
  errors['429'] = errorResponse('Throttled; see Retry-After', ErrorDetail);
  return errors;
}

function fileSchema(spec: UploadField): Json {
  const accepted = spec.kind === 'image' ? 'JPEG, PNG, WebP or GIF' : spec.kind === 'video' ? 'MP4, WebM, QuickTime or Matroska' : 'PDF';
  return {
    anyOf: [{ type: 'string', format: 'binary' }, { type: 'null' }],
    description: `A file (multipart only), ${accepted}, judged by content; null or empty clears it`,
  };
}

/** One body schema for JSON, form and multipart, as drf-spectacular documents a serializer. */
function documentBody(body: Json, uploads: Record<string, UploadField> | undefined): Json {
  let schema = body;
  if (uploads && isObject(body.properties)) {
    const properties: Json = { ...body.properties };
    for (const [field, spec] of Object.entries(uploads)) properties[field] = fileSchema(spec);
    schema = { ...body, properties };
  }
  return {
    content: {
      'application/json': { schema },
      'application/x-www-form-urlencoded': { schema },
      'multipart/form-data': { schema },
    },
  };
}

/** Query parameters as the services read them: flags as booleans, page numbers as integers. */
function documentQuery(query: Json): Json {
  if (!isObject(query.properties)) return query;
  const properties: Json = {};
  for (const [name, property] of Object.entries(query.properties)) {
    if (!isObject(property)) continue;
    const { [QUERY_FLAG]: flag, [QUERY_INTEGER]: integer, ...rest } = property;
    if (flag === true) properties[name] = rest;
    else if (integer === true) properties[name] = { ...rest, type: 'integer', minimum: 1, examples: undefined };
    else properties[name] = property;
  }
  return { ...query, properties };
}

const ACTIONS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'partial_update', DELETE: 'destroy' };

/** drf-spectacular's operationId: the path's words (no parameters), then the action. */
export function operationIdOf(method: string, url: string, isList: boolean): string {
  const words = url
    .replace(/^\/api\//, '/')
    .split('/')
    .filter((segment) => segment !== '' && !segment.startsWith(':') && !segment.startsWith('{'))
    .map((segment) => segment.replace(/[^A-Za-z0-9]+/g, '_'));
  const action = method === 'GET' ? (isList ? 'list' : 'retrieve') : (ACTIONS[method] ?? method.toLowerCase());
  return [...words, action].join('_');
}

const DERIVED = 'x-derived-operation-id';

function transformRoute(schema: FastifySchema | undefined, url: string, route: RouteOptions): { schema: FastifySchema; url: string } {
  if (!schema || schema.hide) return { schema: schema ?? {}, url };
  const method = (Array.isArray(route.method) ? route.method[0] : route.method) ?? 'GET';
  const document: Json = { ...schema };
  const ok = (schema.response as Json | undefined)?.['200'];
  const isList = isObject(ok) && isObject(ok.properties) && 'results' in ok.properties && 'count' in ok.properties;
  if (typeof schema.operationId !== 'string') {
    document.operationId = operationIdOf(method, url, isList);
    document[DERIVED] = true;
  }
  if (!Array.isArray(schema.tags) || schema.tags.length === 0) {
    document.tags = [
      url
        .replace(/^\/api\//, '/')
        .split('/')
        .find(Boolean) ?? 'api',
    ];
  }
  if (isObject(schema.body)) document.body = documentBody(schema.body, route.config?.uploads);
  if (isObject(schema.querystring)) document.querystring = documentQuery(schema.querystring);
  const errors = errorResponses(schema, route.config?.auth, url.includes(':'));
  document.response = { ...errors, ...(schema.response as Json | undefined) };
  return { schema: document, url };
}

// ---------------------------------------------------------------------------------------
// Hoisting named schemas into components.

/** JSON with sorted keys: two schemas are the same shape when this is equal. */
function canonical(value: unknown, drop: ReadonlySet<string> = new Set()): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, drop)).join(',')}]`;
  if (!isObject(value)) return JSON.stringify(value) ?? 'null';
  const keys = Object.keys(value)
    .filter((k) => value[k] !== undefined && !drop.has(k))
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k], drop)}`).join(',')}}`;
}

const ANNOTATIONS = new Set(['description', 'examples', 'example', 'title']);
const isSchema = (node: Json) => 'type' in node || 'properties' in node || 'anyOf' in node || 'oneOf' in node || 'allOf' in node;
const isObjectSchema = (node: Json) => isObject(node.properties) && Object.keys(node.properties).length > 0;

/** A schema as @fastify/swagger writes it into the document (`const` becomes a one-value `enum`). */
function asDocumented(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(asDocumented);
  if (!isObject(schema)) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'const') out.enum = [value];
    else
      out[key] =
        key === 'properties' && isObject(value)
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asDocumented(v)]))
          : asDocumented(value);
  }
  return out;
}

export class SchemaNameClash extends Error {}

/**
 * Replaces every titled schema (children first) with a `$ref` to components.schemas[title];
 * then every anonymous object schema shaped exactly like a named one with a `$ref` to it.
 */
export function hoistNamedSchemas(document: Json, known: ReadonlyMap<string, readonly unknown[]> = namedSchemas): Json {
  const components: Record<string, Json> = {};
  const shapes = new Map<string, string>();
  /** Names known only from the registry so far: the document's own version replaces them. */
  const provisional = new Set<string>();
  let registering = false;

  const hoist = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map((n) => hoist(n));
    if (!isObject(node)) return node;
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      // `properties` maps names to schemas: a property called "title" is not a name.
      out[key] =
        key === 'properties' && isObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hoist(v)])) : hoist(value);
    }
    const { title, ...rest } = out;
    if (typeof title !== 'string' || !isSchema(rest)) return out;
    const shape = canonical(rest);
    const known = components[title];
    if (registering) {
      if (known) return { $ref: `#/components/schemas/${title}` };
      provisional.add(title);
    } else if (provisional.has(title)) {
      provisional.delete(title);
    } else if (known && canonical(known) !== shape) {
      throw new SchemaNameClash(`OpenAPI: two different schemas are named "${title}"; give one of them another name`);
    }
    components[title] = rest;
    if (isObjectSchema(rest)) shapes.set(canonical(rest, ANNOTATIONS), title);
    return { $ref: `#/components/schemas/${title}` };
  };

  const byShape = (node: unknown, inside?: string): unknown => {
    if (Array.isArray(node)) return node.map((n) => byShape(n, inside));
    if (!isObject(node)) return node;
    if (isObjectSchema(node)) {
      const name = shapes.get(canonical(node, ANNOTATIONS));
      if (name && name !== inside) {
        return typeof node.description === 'string'
          ? { $ref: `#/components/schemas/${name}`, description: node.description }
          : { $ref: `#/components/schemas/${name}` };
      }
    }
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      out[key] =
        key === 'properties' && isObject(value)
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, byShape(v, inside)]))
          : byShape(value, inside);
    }
    return out;
  };

  // Every named schema first (so an anonymous copy of one can be referenced by its name),
  // then the document; what no operation reaches is dropped again at the end.
  registering = true;
  for (const list of known.values()) for (const schema of list) hoist(asDocumented(schema));
  registering = false;
  const paths = hoist(document.paths);
  const existing = isObject(document.components) ? document.components : {};
  const given = (isObject(existing.schemas) ? hoist(existing.schemas) : {}) as Record<string, Json>;
  for (const name of Object.keys(components)) {
    const schema = components[name];
    if (schema) components[name] = byShape(schema, name) as Json;
  }
  const finalPaths = byShape(paths);
  const all: Record<string, Json> = { ...given, ...components };
  const reached = new Set<string>();
  const reach = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(reach);
    if (!isObject(node)) return;
    const ref = node.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
      const name = ref.slice('#/components/schemas/'.length);
      if (!reached.has(name)) {
        reached.add(name);
        reach(all[name]);
      }
    }
    Object.values(node).forEach(reach);
  };
  reach(finalPaths);
  Object.keys(given).forEach((name) => reach(all[name]));
  const schemas = Object.fromEntries(
    Object.entries(all)
      .filter(([name]) => reached.has(name) || name in given)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return { ...document, paths: finalPaths, components: { ...existing, schemas } };
}

/** Makes derived operationIds unique (a clash gets its path parameters: `_by_id`); two equal explicit ones fail. */
function uniqueOperationIds(document: Json): void {
  const seen = new Map<string, string>();
  const operations: { path: string; op: Json }[] = [];
  for (const [path, item] of Object.entries(isObject(document.paths) ? document.paths : {})) {
    if (!isObject(item)) continue;
    for (const op of Object.values(item)) if (isObject(op) && typeof op.operationId === 'string') operations.push({ path, op });
  }
  // Explicit ids first: they keep their names.
  operations.sort((a, b) => Number(a.op[DERIVED] === true) - Number(b.op[DERIVED] === true));
  for (const { path, op } of operations) {
    let id = op.operationId as string;
    if (seen.has(id) && op[DERIVED] === true) {
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      if (params.length > 0) id = `${id}_by_${params.join('_')}`;
    }
    if (seen.has(id)) throw new Error(`OpenAPI: operationId "${id}" of ${path} is also ${seen.get(id)}'s; set schema.operationId on one`);
    seen.set(id, path);
    op.operationId = id;
    delete op[DERIVED];
  }
}

/**
 * Swagger UI's own CSP (with the hashes of its inline code) without
 * `upgrade-insecure-requests`, which turns every asset of the page into an https:// URL and
 * leaves it blank when served over plain HTTP on any host but localhost (an intranet address).
 */
export const docsCsp = (header: string): string => header.replace(/\s*upgrade-insecure-requests;?/g, '').replace(/\bhttps: /g, '');

const registered = new WeakMap<FastifyInstance, { method: string; url: string }[]>();

/** Every route the app registered that the document should show (not hidden, not the docs' own, not HEAD twins). */
export function documentableRoutes(app: FastifyInstance): { method: string; url: string }[] {
  return registered.get(app) ?? [];
}

async function docsPlugin(app: FastifyInstance) {
  const routes: { method: string; url: string }[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (route) => {
    if (route.schema?.hide === true || route.url.startsWith('/api/docs')) return;
    for (const method of [route.method].flat()) if (method !== 'HEAD' && method !== 'OPTIONS') routes.push({ method, url: route.url });
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Online Learning Platform API',
        version: '1.0.0',
        description: 'Courses, lessons, enrollment, progress and reviews. DRF-compatible conventions.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: ({ schema, url, route }) => transformRoute(schema, url, route),
    transformObject: (documentObject) => {
      const document = hoistNamedSchemas('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject);
      uniqueOperationIds(document);
      return document;
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: { url: '/api/schema/', persistAuthorization: true },
    staticCSP: true,
    transformStaticCSP: docsCsp,
  });
  app.get('/api/schema/', { schema: { hide: true }, config: { rateLimit: false } }, async () => app.swagger());
  // Built once at start: a clash of names fails the start, not the first request for the document.
  app.addHook('onReady', async () => {
    app.swagger();
  });
}

export default fp(docsPlugin, { name: 'docs' });
