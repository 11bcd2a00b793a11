import type { FastifyInstance, InjectOptions } from 'fastify';
import type { TestUser } from './factories.js';

export interface CallOptions {
  /** JSON body (an object) or raw payload (a Buffer or string, with its content-type in headers). */
  body?: unknown;
  /** Call as this user (its access token) ... */
  as?: TestUser;
  /** ... or with this access token. */
  token?: string;
  headers?: Record<string, string>;
}

/**
 * The one HTTP client of the tests: a request through inject(), authenticated as a user or a
 * token when given; returns status, parsed JSON body (undefined if none), headers and raw text.
 */
export async function call(app: FastifyInstance, method: InjectOptions['method'], url: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token ?? options.as?.access;
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await app.inject({
    method,
    url,
    headers,
    ...(options.body === undefined ? {} : { payload: options.body as InjectOptions['payload'] }),
  });
  const text = res.body;
  let json: any = undefined; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, body: json, headers: res.headers, text };
}

export interface FilePart {
  filename: string;
  contentType: string;
  data: Buffer;
}

/** A multipart/form-data body built by hand so tests control every byte: text fields, then files. */
export function multipart(fields: Record<string, string | number | boolean>, files: Record<string, FilePart> = {}) {
  const boundary = `----lpboundary${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${String(value)}\r\n`));
  }
  for (const [name, file] of Object.entries(files)) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${file.filename}"\r\nContent-Type: ${file.contentType}\r\n\r\n`,
      ),
      file.data,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, boundary };
}

/** An application/x-www-form-urlencoded body. */
export function urlencoded(fields: Record<string, string | number | boolean>) {
  const payload = new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString();
  return { payload, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
}
