/**
 * The revocation list across a Redis outage, against a stand-in for ioredis whose connection
 * events the test drives (test/system/multi-instance.test.ts does the same with a real
 * redis-server, through HTTP).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { createRevocationList } from '../../src/modules/auth/revocation.js';
import { waitFor } from '../helpers/wait.js';

class FakeRedis extends EventEmitter {
  status = 'ready';
  published: string[][] = [];
  subscriptions = 0;
  subscriber: FakeRedis | undefined;
  duplicate() {
    this.subscriber = new FakeRedis();
    return this.subscriber;
  }
  async subscribe() {
    this.subscriptions += 1;
    return 1;
  }
  async publish(_channel: string, message: string) {
    if (this.status !== 'ready') throw new Error('Connection is closed.');
    this.published.push(JSON.parse(message) as string[]);
    return 1;
  }
  disconnect() {}
  /** Connection lost, then (when `back`) regained, as ioredis reports it. */
  drop() {
    this.status = 'reconnecting';
    this.emit('close');
  }
  back() {
    this.status = 'ready';
    this.emit('ready');
  }
}

function setUp(reload: () => Promise<string[]> = async () => []) {
  const redis = new FakeRedis();
  const list = createRevocationList({ accessTokenTtl: 300, redis: redis as unknown as Redis, reload });
  return { redis, subscriber: redis.subscriber!, list };
}

describe('revocation list', () => {
  it('is complete without Redis, and with Redis once subscribed', async () => {
    assert.equal(createRevocationList({ accessTokenTtl: 300 }).complete, true);
    const { list } = setUp();
    assert.equal(list.complete, false);
    await list.listening;
    assert.equal(list.complete, true);
  });

  it('hears other instances: a published revocation is known at once', async () => {
    const { subscriber, list } = setUp();
    await list.listening;
    subscriber.emit('message', 'lp:session-revocations', JSON.stringify(['s1']));
    subscriber.emit('message', 'lp:session-revocations', 'not json');
    assert.equal(list.isRevoked('s1'), true);
    assert.equal(list.isRevoked('s2'), false);
  });

  it('is incomplete while the subscription is down; back, it reloads from the database before it is complete', async () => {
    let release!: (ids: string[]) => void;
    let reloads = 0;
    const { subscriber, list } = setUp(() => {
      reloads += 1;
      return new Promise((resolve) => (release = resolve));
    });
    await list.listening;
    subscriber.drop();
    assert.equal(list.complete, false);
    subscriber.back();
    assert.ok(await waitFor(() => reloads === 1));
    assert.equal(list.complete, false, 'not before the reload answered');
    release(['revoked-meanwhile']);
    assert.ok(await waitFor(() => list.complete));
    assert.equal(list.isRevoked('revoked-meanwhile'), true);
    assert.equal(subscriber.subscriptions, 2, 'subscribed again');
  });

  it('stays incomplete when the connection drops again during the reload', async () => {
    let release!: (ids: string[]) => void;
    const { subscriber, list } = setUp(() => new Promise((resolve) => (release = resolve)));
    await list.listening;
    subscriber.drop();
    subscriber.back();
    assert.ok(await waitFor(() => release !== undefined));
    subscriber.drop();
    release([]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(list.complete, false);
  });

  it('keeps revocations it could not publish and publishes them when Redis is back; revoke never throws', async () => {
    const { redis, list } = setUp();
    await list.listening;
    await list.revoke(['a']);
    assert.deepEqual(redis.published, [['a']]);
    redis.drop();
    await list.revoke(['b', 'c']);
    assert.equal(list.isRevoked('b'), true, 'known here at once');
    assert.deepEqual(redis.published, [['a']]);
    redis.back();
    assert.ok(await waitFor(() => redis.published.length === 2));
    assert.deepEqual(redis.published[1], ['b', 'c']);
  });
});
