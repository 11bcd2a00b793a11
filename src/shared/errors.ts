/**
 * Domain errors: services throw these, the error plugin renders them. The body is the
 * contract's shape: `{detail}` or `{field: [messages]}`. Every error also carries a stable
 * `code` (DRF's codes where DRF has one: `invalid`, `not_authenticated`, `permission_denied`,
 * `not_found`, ...; a domain code where the reason matters to a client). The body stays the
 * contract's DRF shape; the code travels in the `X-Error-Code` response header, so clients
 * and tests branch on it instead of on prose. The one exception is SimpleJWT's
 * `token_not_valid`, which the contract puts in the body too.
 */
export type FieldErrors = Record<string, string[]>;

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: { detail: string; [extra: string]: unknown } | FieldErrors,
    readonly code: string,
    readonly headers: Record<string, string> = {},
  ) {
    super('detail' in body && typeof body.detail === 'string' ? body.detail : 'Invalid input.');
    this.name = 'HttpError';
  }
}

const BEARER = { 'www-authenticate': 'Bearer realm="api"' };

export const invalid = (fields: FieldErrors, code = 'invalid') => new HttpError(400, fields, code);
export const invalidField = (field: string, message: string, code = 'invalid') => new HttpError(400, { [field]: [message] }, code);
export const badRequest = (detail: string, code = 'invalid') => new HttpError(400, { detail }, code);
export const unauthorized = (detail = 'Authentication credentials were not provided.', code = 'not_authenticated') =>
  new HttpError(401, { detail }, code, BEARER);
/**
 * SimpleJWT's answers to a bad, expired or revoked token, with the `code` refresh
 * interceptors look for: an access token names the token class that refused it, a refresh
 * token (the refresh endpoint) says why in `detail`.
 */
export const tokenNotValid = (message: string) =>
  new HttpError(
    401,
    {
      detail: 'Given token not valid for any token type',
      code: 'token_not_valid',
      messages: [{ token_class: 'AccessToken', token_type: 'access', message }],
    },
    'token_not_valid',
    BEARER,
  );
export const refreshNotValid = (message: string) =>
  new HttpError(401, { detail: message, code: 'token_not_valid' }, 'token_not_valid', BEARER);
export const forbidden = (detail = 'You do not have permission to perform this action.', code = 'permission_denied') =>
  new HttpError(403, { detail }, code);
export const notFound = (detail = 'Not found.', code = 'not_found') => new HttpError(404, { detail }, code);
export const conflict = (detail: string, code = 'conflict') => new HttpError(409, { detail }, code);
export const tooLarge = (detail: string, code = 'too_large') => new HttpError(413, { detail }, code);
export const unsupportedMediaType = (detail: string) => new HttpError(415, { detail }, 'unsupported_media_type');

/** Collects field errors so a service can report every bad field at once, as DRF does. */
export class FieldErrorCollector {
  private readonly errors: FieldErrors = {};
  add(field: string, message: string): void {
    (this.errors[field] ??= []).push(message);
  }
  get empty(): boolean {
    return Object.keys(this.errors).length === 0;
  }
  throwIfAny(): void {
    if (!this.empty) throw invalid(this.errors);
  }
}
