import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createTokens } from '../../src/modules/auth/tokens.js';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
const headerOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>;

describe('tokens', () => {
  const tokens = createTokens('s'.repeat(48), { access: 300, refresh: 86400 });
  const user = { id: 7, role: 'instructor' } as const;

  it('issues an access and a refresh token with their kind, user, session and lifetimes', () => {
    const before = Math.floor(Date.now() / 1000);
    const pair = tokens.issue(user, 'session-1', 'jti-1');
    const access = tokens.verifyAccess(pair.access);
    assert.deepEqual([access.typ, access.sub, access.sid, access.role], ['access', '7', 'session-1', 'instructor']);
    const refresh = tokens.verifyRefresh(pair.refresh);
    assert.deepEqual([refresh.typ, refresh.sub, refresh.sid, refresh.jti], ['refresh', '7', 'session-1', 'jti-1']);
    assert.ok(access.exp >= before + 300 && access.exp <= before + 301, `access exp ${access.exp - before}s`);
    assert.ok(refresh.exp >= before + 86400 && refresh.exp <= before + 86401, `refresh exp ${refresh.exp - before}s`);
    assert.equal(headerOf(pair.access).alg, 'HS256');
    assert.equal(headerOf(pair.refresh).alg, 'HS256');
    assert.equal(claimsOf(pair.access).jti, undefined, 'no refresh jti in an access token');
  });

  it('never takes one kind of token for the other', () => {
    const pair = tokens.issue(user, 'session-1', 'jti-1');
    assert.throws(() => tokens.verifyAccess(pair.refresh));
    assert.throws(() => tokens.verifyRefresh(pair.access));
  });

  it('refuses a token of another secret, a tampered one, alg none and garbage', () => {
    const pair = tokens.issue(user, 'session-1', 'jti-1');
    const other = createTokens('t'.repeat(48), { access: 300, refresh: 86400 }).issue(user, 'session-1', 'jti-1');
    assert.throws(() => tokens.verifyAccess(other.access));
    assert.throws(() => tokens.verifyRefresh(other.refresh));
    const [header, , signature] = pair.access.split('.');
    assert.throws(() => tokens.verifyAccess(`${header}.${b64({ ...claimsOf(pair.access), role: 'admin' })}.${signature}`));
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claimsOf(pair.access))}.`;
    assert.throws(() => tokens.verifyAccess(none));
    assert.throws(() => tokens.verifyAccess('not.a.token'));
  });

  it('refuses a well-signed token that lacks its kind’s claims', () => {
    // Signed with the very keys createTokens derives, so only the claim checks can refuse them.
    const secret = 's'.repeat(48);
    const key = (purpose: string) => createHmac('sha256', secret).update(`jwt:${purpose}`).digest();
    const sign = (purpose: string, claims: object) => {
      const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 60, ...claims })}`;
      return `${unsigned}.${createHmac('sha256', key(purpose)).update(unsigned).digest('base64url')}`;
    };
    const goodAccess = { typ: 'access', sub: '7', sid: 's', role: 'student' };
    assert.equal(tokens.verifyAccess(sign('access', goodAccess)).sid, 's', 'the hand-signed control passes');
    assert.throws(() => tokens.verifyAccess(sign('access', { ...goodAccess, typ: 'refresh' })));
    assert.throws(() => tokens.verifyAccess(sign('access', { ...goodAccess, sid: 5 })));
    assert.throws(() => tokens.verifyAccess(sign('refresh', goodAccess)), 'the refresh key does not sign access tokens');
    const goodRefresh = { typ: 'refresh', sub: '7', sid: 's', jti: 'j' };
    assert.equal(tokens.verifyRefresh(sign('refresh', goodRefresh)).jti, 'j', 'the hand-signed control passes');
    assert.throws(() => tokens.verifyRefresh(sign('refresh', { ...goodRefresh, typ: 'access' })));
    assert.throws(() => tokens.verifyRefresh(sign('refresh', { ...goodRefresh, sid: 5 })));
    assert.throws(() => tokens.verifyRefresh(sign('refresh', { ...goodRefresh, jti: 5 })));
    assert.throws(() => tokens.verifyRefresh(sign('access', goodRefresh)), 'the access key does not sign refresh tokens');
  });

  it('refuses an expired token', () => {
    const short = createTokens('s'.repeat(48), { access: -10, refresh: -10 });
    const pair = short.issue(user, 'session-1', 'jti-1');
    assert.throws(() => short.verifyAccess(pair.access));
    assert.throws(() => short.verifyRefresh(pair.refresh));
  });

  it('makes new random ids', () => {
    const ids = new Set(Array.from({ length: 50 }, () => tokens.newId()));
    assert.equal(ids.size, 50);
    for (const id of ids) assert.match(id, /^[0-9a-f-]{36}$/);
  });
});
