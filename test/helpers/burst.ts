/** Bursts of requests over a real listening server (every request in flight at once), for the race tests. */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { TestUser } from './factories.js';

/** The address of an app listening on 127.0.0.1. */
export const baseOf = (app: FastifyInstance) => `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

/** One request with fetch (its own connection from the pool, so a burst runs concurrently); JSON in and out. */
export async function send(base: string, method: string, path: string, as: TestUser, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...as.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Statuses counted (and printed as a diagnostic); a burst never answers a 5xx. */
export function tally(t: TestContext, label: string, statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  t.diagnostic(`${label}: ${JSON.stringify(counts)}`);
  assert.ok(
    statuses.every((s) => s < 500),
    `no 5xx: ${JSON.stringify(counts)}`,
  );
  return counts;
}
