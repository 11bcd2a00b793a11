import fp from 'fastify-plugin';
import FindMyWay from 'find-my-way';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { HttpError } from '../shared/errors.js';
import type { FieldErrors } from '../shared/errors.js';

/** Ajv's keyword → the message a DRF client would read. */
function messageFor(error: FastifySchemaValidationError): string {
  const params = error.params;
  switch (error.keyword) {
    case 'required':
      return 'This field is required.';
    case 'maxLength':
      return `Ensure this field has no more than ${String(params.limit)} characters.`;
    case 'minLength':
      return Number(params.limit) <= 1 ? 'This field may not be blank.' : `Ensure this field has at least ${String(params.limit)} characters.`;
    case 'maximum':
      return `Ensure this value is less than or equal to ${String(params.limit)}.`;
    case 'minimum':
      return `Ensure this value is greater than or equal to ${String(params.limit)}.`;
    case 'exclusiveMinimum':
      return `Ensure this value is greater than ${String(params.limit)}.`;
    case 'enum':
      return `Not a valid choice. Choose from: ${(params.allowedValues as unknown[] | undefined)?.join(', ') ?? ''}.`;
    case 'const':
      return `"${String(params.allowedValue)}" is the only valid choice.`;
    case 'type':
      switch (params.type) {
        case 'integer':
          return 'A valid integer is required.';
        case 'number':
          return 'A valid number is required.';
        case 'boolean':
          return 'Must be a valid boolean.';
        case 'string':
          return 'Not a valid string.';
        case 'null':
          return 'This field may not be null.';
        default:
          return `Expected ${String(params.type)}.`;
      }
    case 'format':
      return params.format === 'email' ? 'Enter a valid email address.' : `Enter a valid ${String(params.format)}.`;
    case 'pattern':
      return 'Enter a valid value.';
    default:
      return error.message ?? 'Invalid value.';
  }
}

function fieldOf(error: FastifySchemaValidationError): string {
  if (error.keyword === 'required') return String((error.params as { missingProperty?: unknown }).missingProperty);
  const [first] = error.instancePath.split('/').filter(Boolean);
  return first ?? 'non_field_errors';
}

export function validationBody(errors: FastifySchemaValidationError[]): FieldErrors {
  const fields: FieldErrors = {};
  for (const error of errors) {
    // anyOf/oneOf report every branch; the per-branch keyword says more than the wrapper.
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf' || error.keyword === 'if') continue;
    const field = fieldOf(error);
    const message = field === 'non_field_errors' && error.keyword === 'type'
      ? 'Invalid data. Expected a dictionary.'
      : messageFor(error);
    const list = (fields[field] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  if (Object.keys(fields).length === 0) fields.non_field_errors = ['Invalid input.'];
  return fields;
}

/** Status and `{detail}` for the errors Fastify and its plugins raise before a handler runs. */
function frameworkError(error: FastifyError, contentType: string | undefined): { status: number; detail: string } | null {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, detail: `JSON parse error - ${error.message}` };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, detail: 'Request body is too large.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, detail: `Unsupported media type "${contentType?.split(';')[0] ?? ''}" in request.` };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, detail: 'Request body size did not match Content-Length.' };
    default:
      break;
  }
  if (error instanceof SyntaxError) return { status: 400, detail: `JSON parse error - ${error.message}` };
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, detail: error.message };
  return null;
}

async function errorsPlugin(app: FastifyInstance) {
  // Routes by pattern → methods, to tell "no such path" (404) from "wrong method" (405).
  const shadow = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
  const methodsByUrl = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let known = methodsByUrl.get(route.url);
    if (!known) {
      known = new Set();
      methodsByUrl.set(route.url, known);
      const allowed = known;
      if (!route.url.includes('*')) shadow.on('GET', route.url, () => {}, { allowed });
    }
    for (const m of methods) known.add(m);
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    const match = shadow.find('GET', path);
    const allowed = (match?.store as { allowed?: Set<string> } | undefined)?.allowed;
    if (allowed && !allowed.has(request.method)) {
      return reply
        .code(405)
        .header('allow', [...allowed].join(', '))
        .send({ detail: `Method "${request.method}" not allowed.` });
    }
    return reply.code(404).send({ detail: 'Not found.' });
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).headers(error.headers).header('x-error-code', error.code).send(error.body);
    }
    if (error.validation) {
      if (error.validationContext === 'body' || error.validationContext === 'querystring') {
        return reply.code(400).send(validationBody(error.validation));
      }
      // A malformed path parameter names nothing that exists.
      return reply.code(404).send({ detail: 'Not found.' });
    }
    const known = frameworkError(error, request.headers['content-type']);
    if (known) {
      if (known.status === 401) reply.header('www-authenticate', 'Bearer realm="api"');
      return reply.code(known.status).send({ detail: known.detail });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ detail: 'Internal server error.' });
  });
}

export default fp(errorsPlugin, { name: 'errors' });
