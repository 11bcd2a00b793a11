import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { PASSWORD, unique, createStudent, createInstructor, createAdmin } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';

const GOOD_PASSWORD = 'violet-Sunrise-42';

function register(app: TestApp, overrides: Record<string, unknown> = {}) {
  const username = unique('reg');
  return call(app, 'POST', '/api/register/', {
    body: { username, email: `${username}@example.com`, password: GOOD_PASSWORD, ...overrides },
  });
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('register', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  it('creates a student by default and never returns the password', async () => {
    const res = await register(app, { first_name: 'Ada', last_name: 'Lovelace', bio: 'Hi' });
    assert.equal(res.status, 201);
    assert.equal(res.body.role, 'student');
    assert.equal(res.body.is_student, true);
    assert.equal(res.body.is_instructor, false);
    assert.equal(res.body.is_staff, false);
    assert.equal(res.body.instructor_status, 'none');
    assert.equal(res.body.first_name, 'Ada');
    assert.equal(res.body.is_active, true);
    assert.match(res.body.date_joined, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(res.body.password, undefined);
    assert.equal(res.body.password_hash, undefined);
    assert.ok(!res.text.includes(GOOD_PASSWORD));
  });

  it('creates a pending instructor with role or with is_instructor', async () => {
    for (const extra of [{ role: 'instructor' }, { is_instructor: true }]) {
      const res = await register(app, extra);
      assert.equal(res.status, 201);
      assert.equal(res.body.role, 'instructor');
      assert.equal(res.body.is_instructor, true);
      assert.equal(res.body.instructor_status, 'pending');
    }
  });

  it('stores an argon2id hash', async () => {
    const res = await register(app);
    const row = await app.database.db.selectFrom('users').select('password_hash').where('id', '=', res.body.id).executeTakeFirstOrThrow();
    assert.match(row.password_hash, /^\$argon2id\$/);
  });

  it('refuses role admin and unknown roles', async () => {
    for (const role of ['admin', 'superuser']) {
      const res = await register(app, { role });
      assert.equal(res.status, 400);
      assert.ok(Array.isArray(res.body.role), JSON.stringify(res.body));
    }
  });

  it('refuses a duplicate username or email, ignoring case', async () => {
    const first = await register(app);
    const dupUser = await register(app, { username: first.body.username.toUpperCase() });
    assert.equal(dupUser.status, 400);
    assert.deepEqual(Object.keys(dupUser.body), ['username']);
    const dupEmail = await register(app, { email: first.body.email.toUpperCase() });
    assert.equal(dupEmail.status, 400);
    assert.deepEqual(Object.keys(dupEmail.body), ['email']);
  });

  it('validates username characters and length', async () => {
    for (const username of ['has space', 'semi;colon', 'x'.repeat(151), '']) {
      const res = await register(app, { username });
      assert.equal(res.status, 400, username);
      assert.ok(res.body.username, JSON.stringify(res.body));
    }
    const ok = await register(app, { username: `a.b+c-d_e@${unique('')}` });
    assert.equal(ok.status, 201);
  });

  it('validates the email', async () => {
    for (const email of ['not-an-email', 'a@b', 'a b@c.de']) {
      const res = await register(app, { email });
      assert.equal(res.status, 400);
      assert.ok(res.body.email);
    }
  });

  it('applies every password rule', async () => {
    const cases: [string, RegExp][] = [
      ['short1!', /too short/],
      ['1234567890123', /entirely numeric/],
      ['password123', /too common/],
      ['qwertyuiop', /too common/],
    ];
    for (const [password, message] of cases) {
      const res = await register(app, { password });
      assert.equal(res.status, 400, password);
      assert.ok(
        res.body.password.some((m: string) => message.test(m)),
        `${password}: ${JSON.stringify(res.body)}`,
      );
    }
    const username = unique('similar');
    const similar = await call(app, 'POST', '/api/register/', {
      body: { username, email: `${username}@example.com`, password: `${username}1` },
    });
    assert.equal(similar.status, 400);
    assert.ok(similar.body.password.some((m: string) => /too similar/.test(m)));
  });

  describe('password rules, each against a control the rule alone separates', () => {
    /** Registers with these fields; 400 on password or 201, nothing else. */
    async function passwordRefused(fields: { username: string; email: string; password: string }): Promise<boolean> {
      const res = await call(app, 'POST', '/api/register/', { body: fields });
      assert.ok(
        res.status === 201 || (res.status === 400 && Object.keys(res.body).join() === 'password'),
        `${fields.password}: ${res.status} ${res.text}`,
      );
      if (res.status === 400) assert.equal(res.headers['x-error-code'], 'invalid');
      return res.status === 400;
    }
    const fresh = () => {
      const tag = unique('');
      return { username: `qz_${tag}`, email: `qz.${tag}@example.com` };
    };

    it('refuses a password too similar to the email (its local part plus a digit or two)', async () => {
      for (const suffix of ['7', '42']) {
        const local = `marguerite.${unique('').slice(0, 4)}`;
        const user = { username: `qz_${unique('')}`, email: `${local}@example.com` };
        assert.ok(await passwordRefused({ ...user, password: `${local}${suffix}` }), `${local}${suffix} vs ${user.email}`);
        const control = { username: `qz_${unique('')}`, email: `zz${unique('')}@example.com` };
        assert.equal(
          await passwordRefused({ ...control, password: `${local}${suffix}` }),
          false,
          'the same password with another email is fine',
        );
      }
      const local = `bartholomew${unique('').slice(0, 3)}`;
      assert.ok(
        await passwordRefused({ username: `qz_${unique('')}`, email: `${local}@example.com`, password: `${local.toUpperCase()}9` }),
        'case does not hide it',
      );
    });

    it('refuses a password too similar to the username', async () => {
      const username = `wilhelmina_${unique('').slice(0, 4)}`;
      assert.ok(await passwordRefused({ username, email: `${unique('m')}@example.com`, password: `${username}12` }));
      assert.equal(await passwordRefused({ ...fresh(), password: `${username}12` }), false, 'the same password for another user is fine');
    });

    it('refuses an all-digit password, a common one and one under 8 characters', async () => {
      assert.ok(await passwordRefused({ ...fresh(), password: '8675309142' }));
      assert.equal(await passwordRefused({ ...fresh(), password: '8675309142x' }), false, 'one letter makes it not all digits');
      assert.ok(await passwordRefused({ ...fresh(), password: 'password1' }));
      assert.ok(await passwordRefused({ ...fresh(), password: 'Password1' }), 'common ignoring case');
      assert.ok(await passwordRefused({ ...fresh(), password: 'Kv7#pQ2' }), '7 characters');
      assert.equal(await passwordRefused({ ...fresh(), password: 'Kv7#pQ2z' }), false, '8 characters');
    });
  });

  it('reports missing fields on each field', async () => {
    const res = await call(app, 'POST', '/api/register/', { body: {} });
    assert.equal(res.status, 400);
    for (const field of ['username', 'email', 'password']) assert.deepEqual(res.body[field], ['This field is required.']);
  });
});

describe('login and tokens', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  const login = (username: string, password = PASSWORD) => call(app, 'POST', '/api/login/', { body: { username, password } });

  it('logs in by username or email, in any case', async () => {
    const s = await createStudent(app);
    for (const id of [s.user.username, s.user.email, s.user.username.toUpperCase()]) {
      const res = await login(id);
      assert.equal(res.status, 200, id);
      assert.equal(typeof res.body.access, 'string');
      assert.equal(typeof res.body.refresh, 'string');
      const profile = await call(app, 'GET', '/api/profile/', { token: res.body.access });
      assert.equal(profile.body.id, s.user.id);
    }
  });

  it('gives the same 401 for an unknown user, a wrong password and a deactivated account', async () => {
    const s = await createStudent(app);
    const inactive = await createStudent(app);
    await app.database.db.updateTable('users').set({ is_active: false }).where('id', '=', inactive.user.id).execute();
    const unknown = await login('nobody-here');
    const wrong = await login(s.user.username, 'wrong-password-x');
    const deactivated = await login(inactive.user.username);
    for (const res of [unknown, wrong, deactivated]) {
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate']?.toString().startsWith('Bearer'), true);
    }
    assert.deepEqual(wrong.body, unknown.body);
    assert.deepEqual(deactivated.body, unknown.body);
  });

  it('refuses a missing token header format and garbage tokens with 401 + WWW-Authenticate', async () => {
    for (const authorization of ['Bearer', 'Token abc', 'Bearer not.a.jwt', 'Bearer a b']) {
      const res = await call(app, 'GET', '/api/profile/', { headers: { authorization } });
      assert.equal(res.status, 401, authorization);
      assert.ok(res.headers['www-authenticate']);
      assert.equal(typeof res.body.detail, 'string');
    }
    const anonymous = await call(app, 'GET', '/api/profile/');
    assert.equal(anonymous.status, 401);
    assert.ok(anonymous.headers['www-authenticate']);
  });

  it('does not take a refresh token as an access token, nor the reverse', async () => {
    const s = await createStudent(app);
    const asAccess = await call(app, 'GET', '/api/profile/', { token: s.refresh });
    assert.equal(asAccess.status, 401);
    const asRefresh = await call(app, 'POST', '/api/token/refresh/', { body: { refresh: s.access } });
    assert.equal(asRefresh.status, 401);
  });

  it('refuses alg none, another algorithm and another key', async () => {
    const s = await createStudent(app);
    const [, payload] = s.access.split('.');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forge = (alg: 'HS256' | 'HS512', key: string) => {
      const head = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
      const sig = createHmac(alg === 'HS256' ? 'sha256' : 'sha512', key)
        .update(head)
        .digest('base64url');
      return `${head}.${sig}`;
    };
    const otherKey = forge('HS256', 'some-other-secret-key-that-is-long-enough');
    const otherAlg = forge('HS512', 'some-other-secret-key-that-is-long-enough');
    const tampered = `${s.access.split('.')[0]}.${b64({ ...claims, role: 'admin' })}.${s.access.split('.')[2]}`;
    for (const token of [none, otherKey, otherAlg, tampered]) {
      const res = await call(app, 'GET', '/api/profile/', { token });
      assert.equal(res.status, 401);
      assert.ok(res.headers['www-authenticate']);
    }
  });

  it('refuses an expired access token', async () => {
    const short = await buildTestApp({ ACCESS_TOKEN_TTL: '1' });
    try {
      const s = await createStudent(short);
      assert.equal((await call(short, 'GET', '/api/profile/', { token: s.access })).status, 200);
      const { exp } = JSON.parse(Buffer.from(s.access.split('.')[1]!, 'base64url').toString()) as { exp: number };
      const refused = () => call(short, 'GET', '/api/profile/', { token: s.access }).then((r) => r.status === 401);
      assert.ok(await waitFor(refused, { timeoutMs: 5000, intervalMs: 50 }), 'refused once expired');
      assert.ok(Date.now() >= exp * 1000, 'not refused before its exp');
      const res = await call(short, 'GET', '/api/profile/', { token: s.access });
      assert.equal(res.status, 401);
      assert.ok(res.headers['www-authenticate']);
    } finally {
      await short.close();
    }
  });

  it('rotates refresh tokens: the old one dies', async () => {
    const s = await createStudent(app);
    const first = await call(app, 'POST', '/api/token/refresh/', { body: { refresh: s.refresh } });
    assert.equal(first.status, 200);
    assert.notEqual(first.body.refresh, s.refresh);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: first.body.access })).status, 200);
    const second = await call(app, 'POST', '/api/token/refresh/', { body: { refresh: first.body.refresh } });
    assert.equal(second.status, 200);
  });

  it('revokes the whole session when a rotated refresh token is presented again', async () => {
    const s = await createStudent(app);
    const rotated = await call(app, 'POST', '/api/token/refresh/', { body: { refresh: s.refresh } });
    assert.equal(rotated.status, 200);
    const reuse = await call(app, 'POST', '/api/token/refresh/', { body: { refresh: s.refresh } });
    assert.equal(reuse.status, 401);
    // The newest refresh token and every access token of the session are dead too.
    assert.equal((await call(app, 'POST', '/api/token/refresh/', { body: { refresh: rotated.body.refresh } })).status, 401);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: rotated.body.access })).status, 401);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: s.access })).status, 401);
  });

  it("does not let one session's reuse touch another session", async () => {
    const s = await createStudent(app);
    const other = await login(s.user.username);
    await call(app, 'POST', '/api/token/refresh/', { body: { refresh: s.refresh } });
    await call(app, 'POST', '/api/token/refresh/', { body: { refresh: s.refresh } });
    assert.equal((await call(app, 'GET', '/api/profile/', { token: other.body.access })).status, 200);
  });

  it('refuses a refresh for a deactivated user and revokes that session for good', async () => {
    const s = await createStudent(app);
    const other = await call(app, 'POST', '/api/login/', { body: { username: s.user.username, password: PASSWORD } });
    // Deactivated behind the API's back (as another instance or a script would), so no revocation has happened yet.
    await app.database.db.updateTable('users').set({ is_active: false }).where('id', '=', s.user.id).execute();
    const refused = await call(app, 'POST', '/api/token/refresh/', { body: { refresh: s.refresh } });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['x-error-code'], 'token_not_valid');
    assert.equal((await call(app, 'GET', '/api/profile/', { token: s.access })).status, 401, 'the session’s access token is refused');

    const admin = await createAdmin(app);
    const back = await call(app, 'PATCH', `/api/admin/users/${s.user.id}/`, { as: admin, body: { is_active: true } });
    assert.equal(back.status, 200, back.text);
    assert.equal(
      (await call(app, 'POST', '/api/token/refresh/', { body: { refresh: s.refresh } })).status,
      401,
      'reactivation does not revive the refresh token',
    );
    assert.equal((await call(app, 'GET', '/api/profile/', { token: s.access })).status, 401, 'nor its access token');
    assert.equal(
      (await call(app, 'POST', '/api/login/', { body: { username: s.user.username, password: PASSWORD } })).status,
      200,
      'the account itself is usable again',
    );
    assert.equal(other.status, 200);
  });

  it('logout kills the refresh token and every access token of that session only', async () => {
    const s = await createStudent(app);
    const refreshed = await call(app, 'POST', '/api/token/refresh/', { body: { refresh: s.refresh } });
    const other = await login(s.user.username);
    const res = await call(app, 'POST', '/api/logout/', { token: refreshed.body.access, body: { refresh: refreshed.body.refresh } });
    assert.equal(res.status, 205);
    assert.equal(res.text, '');
    assert.equal((await call(app, 'GET', '/api/profile/', { token: refreshed.body.access })).status, 401);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: s.access })).status, 401);
    assert.equal((await call(app, 'POST', '/api/token/refresh/', { body: { refresh: refreshed.body.refresh } })).status, 401);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: other.body.access })).status, 200);
  });

  it('logout refuses a foreign, malformed or dead refresh token with 400', async () => {
    const s = await createStudent(app);
    const stranger = await createStudent(app);
    const foreign = await call(app, 'POST', '/api/logout/', { token: s.access, body: { refresh: stranger.refresh } });
    assert.equal(foreign.status, 400);
    assert.equal(typeof foreign.body.detail, 'string');
    assert.equal((await call(app, 'GET', '/api/profile/', { token: stranger.access })).status, 200);
    assert.equal((await call(app, 'POST', '/api/logout/', { token: s.access, body: { refresh: 'garbage' } })).status, 400);
    assert.equal((await call(app, 'POST', '/api/logout/', { token: s.access, body: { refresh: s.access } })).status, 400);
    const other = await login(s.user.username);
    assert.equal(
      (await call(app, 'POST', '/api/logout/', { token: other.body.access, body: { refresh: other.body.refresh } })).status,
      205,
    );
    assert.equal((await call(app, 'POST', '/api/logout/', { token: s.access, body: { refresh: other.body.refresh } })).status, 400);
    assert.equal((await call(app, 'POST', '/api/logout/', { body: { refresh: s.refresh } })).status, 401);
  });

  it('logout-all revokes every session of the caller and nobody else', async () => {
    const s = await createStudent(app);
    const second = await login(s.user.username);
    const stranger = await createStudent(app);
    const res = await call(app, 'POST', '/api/logout-all/', { token: s.access });
    assert.equal(res.status, 205);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: s.access })).status, 401);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: second.body.access })).status, 401);
    assert.equal((await call(app, 'POST', '/api/token/refresh/', { body: { refresh: second.body.refresh } })).status, 401);
    assert.equal((await call(app, 'GET', '/api/profile/', { token: stranger.access })).status, 200);
    assert.equal((await call(app, 'POST', '/api/logout-all/')).status, 401);
  });

  it('keeps revocations across a restart of the process (loaded from the database)', async () => {
    const s = await createStudent(app);
    await call(app, 'POST', '/api/logout-all/', { token: s.access });
    // A second app over the same database, as another instance or a restarted one would be.
    const { createRevocationList } = await import('../../src/modules/auth/revocation.js');
    const { createAuthService } = await import('../../src/modules/auth/service.js');
    const { createTokens } = await import('../../src/modules/auth/tokens.js');
    const fresh = createAuthService({
      db: app.database.db,
      tokens: createTokens(app.config.secretKey, { access: 300, refresh: 3600 }),
      revocations: createRevocationList({ accessTokenTtl: 300 }),
      accessTokenTtl: 300,
      refreshTokenTtl: 3600,
      users: () => ({
        findActive: async () => undefined,
        checkCredentials: async () => {
          throw new Error('unused');
        },
      }),
    });
    await assert.doesNotReject(fresh.authenticate(s.access));
    await fresh.loadRecentRevocations();
    await assert.rejects(
      fresh.authenticate(s.access),
      (e: { code?: string; body?: unknown }) => e.code === 'token_not_valid' && JSON.stringify(e.body).includes('revoked'),
    );
  });
});

describe('roles are not interchangeable', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  it('an instructor and an admin log in like anyone', async () => {
    for (const u of [await createInstructor(app), await createAdmin(app)]) {
      const res = await call(app, 'POST', '/api/login/', { body: { username: u.user.username, password: PASSWORD } });
      assert.equal(res.status, 200);
    }
  });
});
