import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** What a conditional or partial read is asked with: the method and headers of an HTTP GET or HEAD. */
export interface ReadRequest {
  method?: string | undefined;
  headers: IncomingHttpHeaders;
}

/**
 * An HTTP answer for an object: 200, 206 (one byte range), 304 (If-None-Match and friends),
 * 412 or 416, with Content-Type, Content-Length, Content-Range, Accept-Ranges, ETag and
 * Last-Modified. Its body is empty for HEAD and for every status but 200 and 206.
 */
export interface Delivery {
  status: number;
  headers: Record<string, string | number>;
  body: Readable | null;
}

export interface StoredObject {
  size: number;
  modified: Date;
}

/** What a listing of storage finds: a complete object by key, or an unfinished write by name. */
export interface ListedObject {
  name: string;
  /** An unfinished write (local disk's `.partial` files), never an object anyone may read. */
  partial: boolean;
  modified: Date;
}

/**
 * Media storage: local disk or S3, one interface. Keys are server-chosen
 * (`<folder>/<random>.<ext>`), never taken from a client.
 */
export interface Storage {
  /** Writes the body under key; if the body fails midway nothing is left behind. Returns bytes written. */
  put(key: string, body: Readable | Buffer, contentType: string): Promise<number>;
  /** Removes the object; a missing one is not an error. */
  delete(key: string): Promise<void>;
  stat(key: string): Promise<StoredObject | null>;
  /**
   * Answers a GET or HEAD for the object, conditional and ranged requests included, as the
   * backend does best (local disk through @fastify/send; S3's GetObject takes the same
   * Range and If-* headers). Null when there is no such object.
   */
  deliver(key: string, request: ReadRequest): Promise<Delivery | null>;
  /** Everything under a folder, unfinished writes included, with the time of its last write. */
  list(folder: string): AsyncIterable<ListedObject>;
  /** Removes what list() found; a missing one is not an error. */
  remove(listed: ListedObject): Promise<void>;
  /**
   * A URL of the store itself that grants one GET or HEAD of the object for `expiresIn`
   * seconds, its response carrying `cacheControl` (S3 only: local disk has no such URL).
   */
  presign?(key: string, request: PresignRequest): Promise<string>;
}

export interface PresignRequest {
  method: 'GET' | 'HEAD';
  expiresIn: number;
  cacheControl: string;
}

const KEY = /^[a-z0-9_-]+(\/[a-z0-9_-]+)*\/[A-Za-z0-9_-]+\.[a-z0-9]+$/;

export const isValidKey = (key: string): boolean => KEY.test(key);

export function assertKey(key: string): void {
  if (!isValidKey(key)) throw new Error(`invalid storage key: ${key}`);
}
