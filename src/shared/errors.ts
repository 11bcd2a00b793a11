/**
 * Domain errors: services throw these, the error plugin renders them. The body is the
 * contract's shape: `{detail}` or `{field: [messages]}`.
 */
export type FieldErrors = Record<string, string[]>;

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: { detail: string } | FieldErrors,
    readonly headers: Record<string, string> = {},
  ) {
    super('detail' in body && typeof body.detail === 'string' ? body.detail : 'Invalid input.');
    this.name = 'HttpError';
  }
}

export const invalid = (fields: FieldErrors) => new HttpError(400, fields);
export const invalidField = (field: string, message: string) => new HttpError(400, { [field]: [message] });
export const badRequest = (detail: string) => new HttpError(400, { detail });
export const unauthorized = (detail = 'Authentication credentials were not provided.') =>
  new HttpError(401, { detail }, { 'www-authenticate': 'Bearer realm="api"' });
export const forbidden = (detail = 'You do not have permission to perform this action.') => new HttpError(403, { detail });
export const notFound = (detail = 'Not found.') => new HttpError(404, { detail });
export const conflict = (detail: string) => new HttpError(409, { detail });
export const tooLarge = (detail: string) => new HttpError(413, { detail });
export const unsupportedMediaType = (detail: string) => new HttpError(415, { detail });

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
