import type { Readable } from 'node:stream';

export interface StoredObject {
  size: number;
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
  /** A stream of the object, or of the inclusive byte range. */
  read(key: string, range?: { start: number; end: number }): Promise<Readable>;
}

const KEY = /^[a-z0-9_-]+(\/[a-z0-9_-]+)*\/[A-Za-z0-9_-]+\.[a-z0-9]+$/;

export function assertKey(key: string): void {
  if (!KEY.test(key)) throw new Error(`invalid storage key: ${key}`);
}
