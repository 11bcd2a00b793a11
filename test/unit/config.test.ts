import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, parseRate } from '../../src/config.js';

const SECRET = 'x'.repeat(40);

describe('configuration', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({ NODE_ENV: 'test' });
    assert.equal(c.port, 8000);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.databaseUrl, 'sqlite:data/db.sqlite3');
    assert.equal(c.accessTokenTtl, 300);
    assert.equal(c.refreshTokenTtl, 86400);
    assert.equal(c.mediaUrl, '/media/');
    assert.equal(c.limits.thumbnailBytes, 5 * 1024 * 1024);
    assert.equal(c.limits.videoBytes, 2 * 1024 * 1024 * 1024);
    assert.equal(c.limits.attachmentBytes, 50 * 1024 * 1024);
    assert.deepEqual(c.rateLimits.login, { max: 10, windowMs: 60_000 });
    assert.equal(c.instructorAutoApprove, false);
    assert.deepEqual(c.corsOrigins, []);
    assert.ok(Object.isFrozen(c));
  });

  it('requires SECRET_KEY in production and refuses a short one', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /SECRET_KEY is required/);
    assert.throws(() => loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'short' }), /at least 32/);
    assert.equal(loadConfig({ NODE_ENV: 'production', SECRET_KEY: SECRET }).secretKey, SECRET);
  });

  it('fails fast on bad values', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'test', PORT: 'eighty' }), ConfigError);
    assert.throws(() => loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'mysql://x' }), ConfigError);
    assert.throws(() => loadConfig({ NODE_ENV: 'test', STORAGE: 'ftp' }), ConfigError);
    assert.throws(() => loadConfig({ NODE_ENV: 'test', STORAGE: 's3' }), /S3_BUCKET/);
    assert.throws(() => loadConfig({ NODE_ENV: 'test', INSTRUCTOR_AUTO_APPROVE: 'perhaps' }), ConfigError);
    assert.throws(() => loadConfig({ NODE_ENV: 'test', RATE_LIMIT_LOGIN: 'lots' }), /RATE_LIMIT_LOGIN/);
  });

  it('reads the presigned redirect of S3 media, and names the setting of a bad value', () => {
    const s3 = { NODE_ENV: 'test', STORAGE: 's3', S3_BUCKET: 'media' };
    assert.deepEqual([loadConfig(s3).s3?.presignedRedirect, loadConfig(s3).s3?.presignedTtl], [false, 900]);
    const on = loadConfig({ ...s3, S3_PRESIGNED_REDIRECT: 'true', S3_PRESIGNED_TTL: '60' });
    assert.deepEqual([on.s3?.presignedRedirect, on.s3?.presignedTtl], [true, 60]);
    assert.throws(
      () => loadConfig({ ...s3, S3_PRESIGNED_REDIRECT: 'sometimes' }),
      /^Error: S3_PRESIGNED_REDIRECT must be true or false, not "sometimes"$/,
    );
    assert.throws(() => loadConfig({ NODE_ENV: 'test', S3_PRESIGNED_REDIRECT: 'true' }), /S3_PRESIGNED_REDIRECT=true needs STORAGE=s3/);
    for (const bad of ['0', '-5', '1.5', '10m', '604801']) {
      assert.throws(
        () => loadConfig({ ...s3, S3_PRESIGNED_TTL: bad }),
        new RegExp(`S3_PRESIGNED_TTL must be a whole number of seconds from 1 to 604800 .*not "${bad}"`),
      );
    }
  });

  it('parses rates and off', () => {
    assert.deepEqual(parseRate('R', '5/second', ''), { max: 5, windowMs: 1000 });
    assert.deepEqual(parseRate('R', '100/hour', ''), { max: 100, windowMs: 3_600_000 });
    assert.deepEqual(parseRate('R', '1000/day', ''), { max: 1000, windowMs: 86_400_000 });
    assert.deepEqual(parseRate('R', '20/minutes', ''), { max: 20, windowMs: 60_000 });
    assert.equal(parseRate('R', 'off', ''), null);
    assert.equal(parseRate('R', 'OFF', ''), null);
    assert.throws(() => parseRate('R', '0/minute', ''), ConfigError);
  });

  it('reads lists and paths', () => {
    const c = loadConfig({ NODE_ENV: 'test', CORS_ORIGINS: 'https://a.example, https://b.example', MEDIA_URL: '/files' });
    assert.deepEqual(c.corsOrigins, ['https://a.example', 'https://b.example']);
    assert.equal(c.mediaUrl, '/files/');
  });
});
