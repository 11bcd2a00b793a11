import { createHmac, randomUUID } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';
import type { Role } from '../../db/types.js';

export interface AccessClaims {
  typ: 'access';
  sub: string;
  /** SimpleJWT's claim for the user's id (clients read it); `sub` carries the same id as text. */
  user_id: number;
  sid: string;
  role: Role;
  exp: number;
}

export interface RefreshClaims {
  typ: 'refresh';
  sub: string;
  user_id: number;
  sid: string;
  jti: string;
  exp: number;
}

export interface TokenPair {
  access: string;
  refresh: string;
}

export interface Tokens {
  issue(user: { id: number; role: Role }, sessionId: string, refreshJti: string): TokenPair;
  /** Throws on a bad signature, a foreign algorithm, expiry or the wrong kind of token. */
  verifyAccess(token: string): AccessClaims;
  verifyRefresh(token: string): RefreshClaims;
  newId(): string;
}

/**
 * Access and refresh tokens are signed with keys derived apart from the one secret, and carry
 * their kind, so neither can stand in for the other. The algorithm is fixed: a token whose
 * header names another one (or `none`) fails verification.
 */
export function createTokens(secret: string, ttl: { access: number; refresh: number }): Tokens {
  const derive = (purpose: string) => createHmac('sha256', secret).update(`jwt:${purpose}`).digest();
  const accessKey = derive('access');
  const refreshKey = derive('refresh');
  const signAccess = createSigner({ key: accessKey, algorithm: 'HS256', expiresIn: ttl.access * 1000 });
  const signRefresh = createSigner({ key: refreshKey, algorithm: 'HS256', expiresIn: ttl.refresh * 1000 });
  const accessVerifier = createVerifier({ key: accessKey, algorithms: ['HS256'], cache: 10_000 });
  const refreshVerifier = createVerifier({ key: refreshKey, algorithms: ['HS256'] });

  return {
    issue(user, sessionId, refreshJti) {
      return {
        access: signAccess({ typ: 'access', sub: String(user.id), user_id: user.id, sid: sessionId, role: user.role }),
        refresh: signRefresh({ typ: 'refresh', sub: String(user.id), user_id: user.id, sid: sessionId, jti: refreshJti }),
      };
    },
    verifyAccess(token) {
      const claims = accessVerifier(token) as AccessClaims;
      if (claims.typ !== 'access' || typeof claims.sid !== 'string') throw new Error('not an access token');
      return claims;
    },
    verifyRefresh(token) {
      const claims = refreshVerifier(token) as RefreshClaims;
      if (claims.typ !== 'refresh' || typeof claims.sid !== 'string' || typeof claims.jti !== 'string') {
        throw new Error('not a refresh token');
      }
      return claims;
    },
    newId: () => randomUUID(),
  };
}
