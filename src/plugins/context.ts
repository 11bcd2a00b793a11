import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { RequestContext, UserContext } from '../shared/context.js';
import { idFromText } from '../shared/schemas.js';
import { currentUser } from './auth.js';

/** A host name or bracketed IPv6 address, and an optional port: anything else in Host is not reflected. */
const HOST =
  /^(?<name>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?))*|\[[0-9a-f:.]{2,45}\])(?::(?<port>\d{1,5}))?$/i;

function hostAllowed(name: string, allowed: readonly string[]): boolean {
  return allowed.some(
    (entry) => entry === '*' || entry === name || (entry.startsWith('.') && (name === entry.slice(1) || name.endsWith(entry))),
  );
}

/**
 * The origin of absolute URLs. PUBLIC_URL when set; otherwise the request's own scheme and
 * Host when the Host is well-formed and allowed (ALLOWED_HOSTS), else the server's own
 * address. A forged Host can therefore never reach a link or a media URL (no cache
 * poisoning), and a malformed one is never an error.
 */
export function originFor(config: Readonly<Config>, request: FastifyRequest): string {
  if (config.publicUrl) return config.publicUrl;
  const match = HOST.exec(request.host);
  const port = match?.groups?.port;
  const protocol = request.protocol === 'https' ? 'https' : 'http';
  if (
    match?.groups?.name &&
    (port === undefined || Number(port) <= 65535) &&
    hostAllowed(match.groups.name.toLowerCase(), config.allowedHosts)
  ) {
    return `${protocol}://${request.host.toLowerCase()}`;
  }
  const host =
    config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}

/** The one request context of a request, for the services. */
export function contextOf(request: FastifyRequest): RequestContext {
  return {
    viewer: request.user,
    origin: originFor(request.server.config, request),
    url: request.url,
    ip: request.ip,
    requestId: request.id,
  };
}

/** The context of a request whose route requires an authenticated caller. */
export function userContextOf(request: FastifyRequest): UserContext {
  return { ...contextOf(request), viewer: currentUser(request) };
}

/**
 * A route hook that refuses a caller who may not act on the object named in the path before
 * the body is read or validated, as DRF's views check object permissions before the
 * serializer: someone else's object answers 403 or 404 whatever the body holds (and an upload
 * is not stored for it). Params are not validated yet at this stage: the path's text is read as
 * the `Id` schema will read it, and an id that names nothing is left to the handler's 404.
 */
export function refuseBeforeBody(check: (ctx: UserContext, id: number) => Promise<unknown>) {
  return async (request: FastifyRequest): Promise<void> => {
    const id = idFromText((request.params as { id?: unknown }).id);
    if (id !== null) await check(userContextOf(request), id);
  };
}
