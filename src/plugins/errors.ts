import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import fp from 'fastify-plugin';
import FindMyWay from 'find-my-way';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { HttpError } from '../shared/errors.js';
import { DECIMAL_ID_KEYWORD } from '../shared/schemas.js';
import { redactSignedUrl } from '../modules/media/urls.js';
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
      return Number(params.limit) <= 1
        ? 'This field may not be blank.'
        : `Ensure this field has at least ${String(params.limit)} characters.`;
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
    case DECIMAL_ID_KEYWORD:
      return 'A valid integer is required.';
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
    const message = field === 'non_field_errors' && error.keyword === 'type' ? 'Invalid data. Expected a dictionary.' : messageFor(error);
    const list = (fields[field] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  if (Object.keys(fields).length === 0) fields.non_field_errors = ['Invalid input.'];
  return fields;
}

interface KnownError {
  status: number;
  detail: string;
  code: string;
}

/** Status, `{detail}` and code for the errors Fastify and its plugins raise before a handler runs. */
function frameworkError(error: FastifyError, contentType: string | undefined): KnownError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, detail: `JSON parse error - ${error.message}`, code: 'parse_error' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, detail: 'Request body is too large.', code: 'too_large' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        detail: `Unsupported media type "${contentType?.split(';')[0] ?? ''}" in request.`,
        code: 'unsupported_media_type',
      };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, detail: 'Request body size did not match Content-Length.', code: 'parse_error' };
    case 'FST_ERR_BAD_URL':
      return { status: 400, detail: 'The URL path is not valid percent-encoded UTF-8.', code: 'parse_error' };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      // A path parameter that long names nothing that exists (ids and slugs are short).
      return { status: 404, detail: 'Not found.', code: 'not_found' };
    default:
      break;
  }
  if (error instanceof SyntaxError) return { status: 400, detail: `JSON parse error - ${error.message}`, code: 'parse_error' };
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, detail: error.message, code: 'invalid' };
  return null;
}

/**
 * Logger options whose request serializer (Fastify's, but for the URL) writes signed media
 * URLs without their signature and expiry: an access log must not grant the files it lists.
 */
export function withRedactedUrls(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return logger;
  const options = logger === true ? {} : logger;
  return {
    ...options,
    serializers: {
      ...options.serializers,
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactSignedUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
  };
}

/**
 * Fastify's `frameworkErrors`: the router's refusals (a path that is not valid
 * percent-encoding, a path parameter past maxParamLength) are answered before any hook
 * runs, so the headers every response carries are set here, from the same list.
 */
export function contractFrameworkErrors(headers: Readonly<Record<string, string>>) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    reply.headers(headers).header('x-request-id', request.id);
    const known = frameworkError(error, undefined);
    if (!known) {
      request.log.error({ err: error }, 'unhandled framework error');
      void reply.code(500).header('x-error-code', 'server_error').send({ detail: 'Internal server error.' });
      return;
    }
    void reply.code(known.status).header('x-error-code', known.code).send({ detail: known.detail });
  };
}

/**
 * Fastify's `clientErrorHandler`: a request Node could not parse (malformed, headers too
 * large, headers not received within HEADERS_TIMEOUT) never becomes a request, so the
 * answer is written to the socket by hand, in the contract's format, and the connection closed.
 */
export function contractClientErrors(headers: Readonly<Record<string, string>>) {
  return function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, detail, code] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request was not received in time.', 'request_timeout']
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'The request headers are too large.', 'headers_too_large']
          : [400, 'Malformed HTTP request.', 'parse_error'];
    this.log.debug({ err: error }, 'client error');
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ detail });
    const head = {
      ...headers,
      'x-request-id': randomUUID(),
      'x-error-code': code,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    };
    const lines = Object.entries(head)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines}\r\n${body}`, () => socket.destroy());
  };
}

async function errorsPlugin(app: FastifyInstance) {
  // While closing, requests still arriving on open connections are told to go elsewhere.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new HttpError(503, { detail: 'The server is shutting down; retry the request.' }, 'shutting_down', { 'retry-after': '1' });
  });

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
    // Fastify closes the connection when a body is refused (too large, wrong type) while the
    // client is still sending it: the unread bytes then reset the connection and a client
    // that writes before it reads (browsers, fetch) never sees this answer. Keeping the
    // connection lets Node read and drop the rest (bounded by REQUEST_TIMEOUT), then reuse it.
    if (!request.raw.complete && !closing) reply.removeHeader('connection');
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
      return reply.code(known.status).header('x-error-code', known.code).send({ detail: known.detail });
    }
    if (isDatabaseUnavailable(error)) {
      // Not a bug and not the request's fault: the database is down or unreachable right now.
      request.log.warn({ err: error }, 'database unavailable');
      return reply
        .code(503)
        .header('retry-after', '5')
        .header('x-error-code', 'database_unavailable')
        .send({ detail: 'The service is temporarily unavailable; retry the request shortly.' });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ detail: 'Internal server error.' });
  });
}

export default fp(errorsPlugin, { name: 'errors' });
