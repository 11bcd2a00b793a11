import type { Kysely } from 'kysely';
import type { DB, Role } from '../../db/types.js';
import { badRequest, refreshNotValid, tokenNotValid } from '../../shared/errors.js';
import { nowIso } from '../../shared/time.js';
import { writeTransaction } from '../../db/transaction.js';
import type { Executor } from '../../db/query.js';
import type { AuditEntry } from '../audit/service.js';
import type { Caller, RequestContext, UserContext } from '../../shared/context.js';
import * as repo from './repository.js';
import type { RevocationList } from './revocation.js';
import type { TokenPair, Tokens } from './tokens.js';

export interface SessionUser {
  id: number;
  role: Role;
}

/** The caller as an access token proves it: no database read needed. */
export type AuthUser = Caller;

/** What this module needs of the users module. */
export interface AccountsPort {
  /** The user if they may still hold a session (exists and is active), else undefined. */
  findActive(id: number): Promise<SessionUser | undefined>;
  /** The user whose login and password these are; a 401 otherwise. */
  checkCredentials(identifier: string, password: string): Promise<SessionUser>;
}

/** What this module needs of the audit module. */
export interface AuditPort {
  record(trx: Executor, ctx: RequestContext, entry: AuditEntry): Promise<void>;
}

export interface AuthServiceDeps {
  db: Kysely<DB>;
  tokens: Tokens;
  revocations: RevocationList;
  refreshTokenTtl: number;
  accessTokenTtl: number;
  /** Optional only so the service can be built alone (unit tests); the app always wires it. */
  audit?: AuditPort;
  users: () => AccountsPort;
}

const INVALID_TOKEN = 'Token is invalid or expired';

/** Sessions revoked recently enough that access tokens of theirs may still be alive. */
export function recentRevocations(db: Executor, accessTokenTtl: number): Promise<string[]> {
  return repo.sessionsRevokedSince(db, new Date(Date.now() - (accessTokenTtl + 60) * 1000).toISOString());
}

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService(deps: AuthServiceDeps) {
  const { db, tokens, revocations } = deps;
  const refreshExpiry = () => new Date(Date.now() + deps.refreshTokenTtl * 1000).toISOString();

  async function revoke(filter: Parameters<typeof repo.revokeSessions>[1]): Promise<void> {
    const ids = await repo.revokeSessions(db, filter, nowIso());
    await revocations.revoke(ids);
  }

  /** `ip`: the client address at login, kept for the personal data export. */
  async function startSession(user: SessionUser, ip = ''): Promise<TokenPair> {
    const id = tokens.newId();
    const jti = tokens.newId();
    await repo.insertSession(db, {
      id,
      user_id: user.id,
      refresh_jti: jti,
      created_at: nowIso(),
      expires_at: refreshExpiry(),
      revoked_at: null,
      ip: ip.slice(0, 64),
    });
    return tokens.issue(user, id, jti);
  }

  return {
    /**
     * Hot path: signature, expiry and kind from the token, revocation from memory. While this
     * instance cannot hear the others' revocations (Redis away), the session is read from the
     * database instead: a revoked session stays revoked (fail closed).
     */
    async authenticate(token: string): Promise<AuthUser> {
      let claims;
      try {
        claims = tokens.verifyAccess(token);
      } catch {
        throw tokenNotValid('Token is invalid or expired');
      }
      if (revocations.isRevoked(claims.sid)) throw tokenNotValid('Token has been revoked');
      if (!revocations.complete) {
        const session = await repo.findSession(db, claims.sid);
        if (!session || session.revoked_at !== null) throw tokenNotValid('Token has been revoked');
      }
      return { id: Number(claims.sub), role: claims.role, sessionId: claims.sid };
    },

    startSession,

    /**
     * Rotation with reuse detection: a refresh token that is no longer its session's newest
     * has been stolen or replayed, so the whole session dies.
     */
    async refresh(_ctx: RequestContext, refreshToken: string): Promise<TokenPair> {
      let claims;
      try {
        claims = tokens.verifyRefresh(refreshToken);
      } catch {
        throw refreshNotValid(INVALID_TOKEN);
      }
      const session = await repo.findSession(db, claims.sid);
      if (!session || session.revoked_at !== null || session.user_id !== Number(claims.sub)) {
        throw refreshNotValid(INVALID_TOKEN);
      }
      if (session.refresh_jti !== claims.jti) {
        await revoke({ id: session.id });
        throw refreshNotValid(INVALID_TOKEN);
      }
      const user = await deps.users().findActive(session.user_id);
      if (!user) {
        await revoke({ id: session.id });
        throw refreshNotValid(INVALID_TOKEN);
      }
      const next = tokens.newId();
      if (!(await repo.rotateRefresh(db, session.id, claims.jti, next, refreshExpiry()))) {
        // Another request rotated this token first: that is reuse too.
        await revoke({ id: session.id });
        throw refreshNotValid(INVALID_TOKEN);
      }
      return tokens.issue(user, session.id, next);
    },

    /** A new session for the user these credentials name. */
    async login(ctx: RequestContext, identifier: string, password: string): Promise<TokenPair> {
      return startSession(await deps.users().checkCredentials(identifier, password), ctx.ip);
    },

    async logout(ctx: UserContext, refreshToken: string): Promise<void> {
      const caller = ctx.viewer;
      let claims;
      try {
        claims = tokens.verifyRefresh(refreshToken);
      } catch {
        throw badRequest('Token is invalid or expired.');
      }
      const session = await repo.findSession(db, claims.sid);
      if (
        !session ||
        session.user_id !== caller.id ||
        Number(claims.sub) !== caller.id ||
        session.revoked_at !== null ||
        session.refresh_jti !== claims.jti
      ) {
        throw badRequest('Token is invalid or expired.');
      }
      await revoke({ id: session.id });
    },

    /** Every session of the caller ends. */
    async logoutEverywhere(ctx: UserContext): Promise<void> {
      const userId = ctx.viewer.id;
      const ids = await writeTransaction(db, async (trx) => {
        const revoked = await repo.revokeSessions(trx, { userId }, nowIso());
        await deps.audit?.record(trx, ctx, {
          action: 'user.logged_out_everywhere',
          target: { type: 'user', id: userId },
          data: { sessions: revoked.length },
        });
        return revoked;
      });
      await revocations.revoke(ids);
    },

    revokeAllSessions: (userId: number) => revoke({ userId }),
    revokeOtherSessions: (userId: number, keepSessionId: string) => revoke({ userId, exceptId: keepSessionId }),

    /** At start: what every instance must know of revocations still within an access lifetime. */
    async loadRecentRevocations(): Promise<void> {
      revocations.preload(await recentRevocations(db, deps.accessTokenTtl));
    },

    /** Sessions past their refresh expiry can never be used again: their rows go. */
    async pruneExpiredSessions(executor: Executor = db): Promise<void> {
      await repo.deleteExpiredSessions(executor, nowIso());
    },
  };
}
