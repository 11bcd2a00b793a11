import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest, preParsingHookHandler } from 'fastify';
import type { Role } from '../db/types.js';
import type { AuthService, AuthUser } from '../modules/auth/service.js';
import { forbidden, unauthorized } from '../shared/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, or null for an anonymous request. */
    user: AuthUser | null;
  }
}

/**
 * Authentication runs for every request that carries a token, so a bad token is a 401
 * everywhere (as in DRF), even on public endpoints. Which roles may call a route is the
 * route's gate; what they may do to an object is the service's policy.
 */
async function authPlugin(app: FastifyInstance, opts: { auth: AuthService }) {
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (header === undefined) return;
    const [scheme, token, extra] = header.split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token || extra !== undefined) {
      throw unauthorized('Authorization header must contain two space-delimited values: Bearer <token>');
    }
    request.user = opts.auth.authenticate(token);
  });
}

export default fp(authPlugin, { name: 'auth' });

export function currentUser(request: FastifyRequest): AuthUser {
  if (!request.user) throw unauthorized();
  return request.user;
}

/*
 * Route gates run as the route's preParsing hooks: after authentication and throttling
 * (onRequest), before the body is read, so a caller who may not call a route never gets an
 * upload parsed or stored.
 */

/** Route gate: an authenticated caller. */
export const requireUser: preParsingHookHandler = async (request) => {
  currentUser(request);
};

/** Route gate: an authenticated caller with one of these roles. */
export function requireRole(...roles: Role[]): preParsingHookHandler {
  const message = roles.length === 1 && roles[0] === 'admin'
    ? 'You do not have permission to perform this action.'
    : `Only ${roles.join(' or ')} accounts may do this.`;
  return async (request) => {
    if (!roles.includes(currentUser(request).role)) throw forbidden(message);
  };
}
