import type { Role } from '../db/types.js';

/** The authenticated caller, as the access token names them. */
export interface Caller {
  id: number;
  role: Role;
  sessionId: string;
}

/**
 * What a service may know of the request it serves, built once per request by the route
 * layer (src/plugins/context.ts) and passed first to every service call. Services import
 * nothing from Fastify.
 */
export interface RequestContext {
  /** The caller, or null when anonymous. */
  viewer: Caller | null;
  /** `scheme://host[:port]` for the absolute URLs the contract returns (files, page links). */
  origin: string;
  /** The request's path and query string, for page links. */
  url: string;
  /** The client address (after TRUST_PROXY), for the audit log. */
  ip: string;
  /** The request's X-Request-Id. */
  requestId: string;
}

/** A request context whose caller is authenticated. */
export interface UserContext extends RequestContext {
  viewer: Caller;
}

/** A context for work done outside a request (the CLI, seeding, background jobs). */
export function systemContext(origin: string, viewer: Caller | null = null): RequestContext {
  return { viewer, origin, url: '/', ip: '', requestId: 'system' };
}
