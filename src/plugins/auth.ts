import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest, preParsingHookHandler, RouteOptions } from 'fastify';
import type { Role } from '../db/types.js';
import type { AuthService } from '../modules/auth/service.js';
import type { Caller } from '../shared/context.js';
import { forbidden, HttpError, unauthorized } from '../shared/errors.js';

/**
 * Who may call a route, said once on the route as `config: { auth }`:
 * - `'public'`: anyone; a token is optional (and, when sent, must be valid);
 * - `'user'`: any authenticated caller;
 * - a list of roles: an authenticated caller with one of them.
 * One onRoute hook turns it into the route's gate and its OpenAPI `security`, so the two
 * cannot disagree; a route that says nothing is refused at start.
 */
export type RouteAuth = 'public' | 'user' | readonly Role[];

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, or null for an anonymous request. */
    user: Caller | null;
    /** A token that was sent and refused: answered after throttling, so bad tokens are throttled too. */
    authFailure: HttpError | null;
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
}

type Security = { [scheme: string]: string[] }[];
export const BEARER_SECURITY: Security = [{ bearerAuth: [] }];
/** Optional authentication: anonymous, or with a token (so Swagger UI sends the token it holds). */
export const OPTIONAL_SECURITY: Security = [{}, { bearerAuth: [] }];

const gates = new Map<string, preParsingHookHandler>();

/** The gate of a route: runs at preParsing, after authentication and throttling, before any body or upload is read. */
function gateFor(auth: Exclude<RouteAuth, 'public'>): preParsingHookHandler {
  const key = typeof auth === 'string' ? auth : auth.join(',');
  let gate = gates.get(key);
  if (gate) return gate;
  if (auth === 'user') {
    gate = async (request) => {
      currentUser(request);
    };
  } else {
    const roles = auth;
    const message =
      roles.length === 1 && roles[0] === 'admin'
        ? 'You do not have permission to perform this action.'
        : `Only ${roles.join(' or ')} accounts may do this.`;
    gate = async (request) => {
      if (!roles.includes(currentUser(request).role)) throw forbidden(message);
    };
  }
  gates.set(key, gate);
  return gate;
}

function hooksOf(value: RouteOptions['preParsing']): preParsingHookHandler[] {
  if (!value) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Authentication runs for every request that carries a token, so a bad token is a 401
 * everywhere (as in DRF), even on public endpoints; it is answered at preParsing, after the
 * rate limiter has counted the request as anonymous. Which roles may call a route is the
 * route's gate; what they may do to an object is the service's policy.
 */
async function authPlugin(app: FastifyInstance, opts: { auth: AuthService }) {
  app.decorateRequest('user', null);
  app.decorateRequest('authFailure', null);

  app.addHook('onRoute', (route) => {
    const auth = route.config?.auth;
    if (auth === undefined) {
      // Framework routes (the docs' static files, HEAD twins) are public by nature.
      if (route.schema?.hide === true || route.url.startsWith('/api/docs')) return;
      throw new Error(`Route ${String(route.method)} ${route.url} does not say who may call it (config.auth)`);
    }
    const security = auth === 'public' ? OPTIONAL_SECURITY : BEARER_SECURITY;
    if (route.schema && route.schema.hide !== true) route.schema = { ...route.schema, security };
    if (auth !== 'public') route.preParsing = [gateFor(auth), ...hooksOf(route.preParsing)];
  });

  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (header === undefined) return;
    const [scheme, token, extra] = header.split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token || extra !== undefined) {
      request.authFailure = unauthorized(
        'Authorization header must contain two space-delimited values: Bearer <token>',
        'authentication_failed',
      );
      return;
    }
    try {
      request.user = await opts.auth.authenticate(token);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      request.authFailure = error;
    }
  });

  app.addHook('preParsing', async (request) => {
    if (request.authFailure) throw request.authFailure;
  });
}

export default fp(authPlugin, { name: 'auth' });

export function currentUser(request: FastifyRequest): Caller {
  if (request.authFailure) throw request.authFailure;
  if (!request.user) throw unauthorized();
  return request.user;
}
