import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalid } from '../shared/errors.js';
import type { FieldErrors } from '../shared/errors.js';
import { QUERY_FLAG } from '../shared/openapi.js';

/**
 * DRF's default parsers, and what DRF's fields accept from them:
 * - `application/x-www-form-urlencoded` bodies on every route that takes a body, with the same
 *   field names as JSON (a repeated key is a list only where the route's schema says array;
 *   elsewhere the last value wins, as Django's QueryDict reads it);
 * - in form and multipart bodies (whose values are all text), a boolean field takes DRF's
 *   literals `true/True/1/on` and `false/False/0/off`; so does a boolean query parameter
 *   (in any case; empty means not given);
 * - a NUL character in any text (body, query string, path) is a 400 on its field, before
 *   any service or database sees it (PostgreSQL cannot store it; SQLite would).
 * One preValidation hook does the last two for every route, registered after the uploads
 * plugin so that multipart text fields are already the body.
 */

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  [key: string]: unknown;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The body arrived as text fields (form-urlencoded or multipart), not JSON. */
    formBody: boolean;
  }
}

const TRUE = new Set(['true', 'True', 'TRUE', '1', 'on', 'On', 'ON', 'yes', 'Yes', 'YES', 'y', 'Y', 't', 'T']);
const FALSE = new Set(['false', 'False', 'FALSE', '0', 'off', 'Off', 'OFF', 'no', 'No', 'NO', 'n', 'N', 'f', 'F']);

/** DRF's BooleanField literals; anything else is left for validation to refuse. */
export function drfBoolean(value: string): boolean | undefined {
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  return undefined;
}

const NUL_MESSAGE = 'Null characters are not allowed.';

function typesOf(schema: JsonSchema | undefined): string[] {
  if (!schema) return [];
  const own = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const branches = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].flatMap(typesOf);
  return [...own, ...branches];
}

const takesBoolean = (schema: JsonSchema | undefined) => typesOf(schema).includes('boolean');
const takesArray = (schema: JsonSchema | undefined) => typesOf(schema).includes('array');
const isQueryFlag = (schema: JsonSchema | undefined) => schema?.[QUERY_FLAG] === true;

function propertiesOf(schema: unknown): Record<string, JsonSchema> {
  const s = schema as JsonSchema | undefined;
  return s?.properties ?? {};
}

/** Repeated keys become lists only for array fields; the last value wins elsewhere. */
export function parseForm(text: string, bodySchema: unknown): Record<string, string | string[]> {
  const properties = propertiesOf(bodySchema);
  const body: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (takesArray(properties[key])) {
      const list = body[key];
      body[key] = Array.isArray(list) ? [...list, value] : [value];
    } else {
      body[key] = value;
    }
  }
  return body;
}

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || hasNul(v));
  return false;
}

/** Fields (top-level names) whose text holds a NUL character. */
function nulFields(values: unknown, errors: FieldErrors): void {
  if (values === null || typeof values !== 'object') {
    if (hasNul(values)) errors.non_field_errors = [NUL_MESSAGE];
    return;
  }
  for (const [field, value] of Object.entries(values)) {
    if (hasNul(value) || field.includes('\u0000')) errors[field.replaceAll('\u0000', '')] = [NUL_MESSAGE];
  }
}

/**
 * Turns DRF's boolean literals into booleans where the schema says boolean. A query flag also
 * takes them in any case, and an empty one is dropped (not given); what is left is refused by
 * validation.
 */
function coerceBooleans(values: Record<string, unknown>, schema: unknown, query: boolean): void {
  for (const [field, fieldSchema] of Object.entries(propertiesOf(schema))) {
    const value = values[field];
    if (typeof value !== 'string') continue;
    const text = value.trim();
    if (query && isQueryFlag(fieldSchema)) {
      if (text === '') delete values[field];
      else values[field] = drfBoolean(text.toLowerCase()) ?? value;
      continue;
    }
    const parsed = drfBoolean(text);
    if (parsed !== undefined && takesBoolean(fieldSchema)) values[field] = parsed;
  }
}

async function formsPlugin(app: FastifyInstance) {
  app.decorateRequest('formBody', false);

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request: FastifyRequest, text, done) => {
    request.formBody = true;
    done(null, parseForm(String(text), request.routeOptions.schema?.body));
  });

  app.addHook('preValidation', async (request) => {
    const schema = request.routeOptions.schema;
    const errors: FieldErrors = {};
    nulFields(request.params, errors);
    nulFields(request.query, errors);
    if (request.body !== undefined) nulFields(request.body, errors);
    if (Object.keys(errors).length > 0) throw invalid(errors, 'null_characters_not_allowed');

    const query = request.query as Record<string, unknown> | undefined;
    if (query && typeof query === 'object' && schema?.querystring) coerceBooleans(query, schema.querystring, true);
    const body = request.body as Record<string, unknown> | undefined;
    if ((request.formBody || request.isMultipart()) && body && typeof body === 'object' && schema?.body) {
      coerceBooleans(body, schema.body, false);
    }
  });
}

export default fp(formsPlugin, { name: 'forms', dependencies: ['uploads'] });
