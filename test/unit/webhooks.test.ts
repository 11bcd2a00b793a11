import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isPublicAddress } from '../../src/modules/events/addresses.js';
import { canManageEndpoint, endpointCreationDenial, receives } from '../../src/modules/events/policy.js';
import { nextAttemptAfterFailure } from '../../src/modules/events/worker.js';
import { sign } from '../../src/modules/events/sender.js';
import { parseBound } from '../../src/modules/audit/service.js';

describe('isPublicAddress', () => {
  const table: [string, boolean][] = [
    ['8.8.8.8', true],
    ['93.184.216.34', true],
    ['172.15.255.255', true],
    ['172.32.0.1', true],
    ['100.128.0.1', true],
    ['0.0.0.0', false],
    ['0.1.2.3', false],
    ['10.0.0.1', false],
    ['100.64.0.1', false],
    ['100.127.255.255', false],
    ['127.0.0.1', false],
    ['127.255.255.254', false],
    ['169.254.169.254', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['192.0.0.8', false],
    ['192.0.2.1', false],
    ['192.168.0.1', false],
    ['198.18.0.1', false],
    ['198.51.100.1', false],
    ['203.0.113.1', false],
    ['224.0.0.1', false],
    ['239.255.255.250', false],
    ['240.0.0.1', false],
    ['255.255.255.255', false],
    ['2606:4700:4700::1111', true],
    ['2001:4860:4860::8888', true],
    ['::ffff:8.8.8.8', true],
    ['64:ff9b::808:808', true],
    ['::', false],
    ['::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['::ffff:10.0.0.1', false],
    ['::127.0.0.1', false],
    ['64:ff9b::a00:1', false],
    ['64:ff9b:1::1', false],
    ['2002:7f00:1::', false],
    ['2002:0808:0808::1', true],
    ['fe80::1', false],
    ['fe80::1%eth0', false],
    ['fc00::1', false],
    ['fd12:3456::1', false],
    ['ff02::1', false],
    ['fec0::1', false],
    ['2001:db8::1', false],
    ['2001::1', false],
    ['100::1', false],
    ['3fff::1', false],
    ['[::1]', false],
    ['not-an-ip', false],
    ['1.2.3', false],
    ['1.2.3.256', false],
  ];
  for (const [address, expected] of table) {
    it(`${address} → ${expected ? 'public' : 'refused'}`, () => assert.equal(isPublicAddress(address), expected));
  }
});

describe('webhook policy', () => {
  it("an endpoint is its owner's and every admin's", () => {
    assert.equal(canManageEndpoint({ id: 1, role: 'instructor' }, { owner_id: 1 }), true);
    assert.equal(canManageEndpoint({ id: 2, role: 'instructor' }, { owner_id: 1 }), false);
    assert.equal(canManageEndpoint({ id: 3, role: 'admin' }, { owner_id: 1 }), true);
    assert.equal(canManageEndpoint({ id: 4, role: 'student' }, { owner_id: 1 }), false);
  });
  it('admins and approved instructors may register', () => {
    assert.equal(endpointCreationDenial('admin', 'none'), null);
    assert.equal(endpointCreationDenial('instructor', 'approved'), null);
    assert.notEqual(endpointCreationDenial('instructor', 'pending'), null);
    assert.notEqual(endpointCreationDenial('instructor', 'rejected'), null);
    assert.notEqual(endpointCreationDenial('student', 'none'), null);
  });
  it("admins receive every event; instructors their courses' events; the type must be subscribed", () => {
    const admin = { owner_id: 9, role: 'admin' as const, events: ['*'] };
    const instructor = { owner_id: 1, role: 'instructor' as const, events: ['enrollment.created'] };
    assert.equal(receives(admin, { type: 'review.created', courseOwnerId: 5 }), true);
    assert.equal(receives(admin, { type: 'review.created', courseOwnerId: undefined }), true);
    assert.equal(receives(instructor, { type: 'enrollment.created', courseOwnerId: 1 }), true);
    assert.equal(receives(instructor, { type: 'enrollment.created', courseOwnerId: 2 }), false);
    assert.equal(receives(instructor, { type: 'enrollment.created', courseOwnerId: undefined }), false);
    assert.equal(receives(instructor, { type: 'lesson.completed', courseOwnerId: 1 }), false);
  });
});

describe('retry schedule', () => {
  const created = new Date('2026-01-01T00:00:00.000Z');
  it('5 s, 30 s, 2 min, 10 min, 1 h, then every 6 h; failed once 24 h have passed', () => {
    const expected = [5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000, 21_600_000];
    let now = created;
    for (const [i, delay] of expected.entries()) {
      const next = nextAttemptAfterFailure(i + 1, created, now);
      assert.equal(next?.getTime(), now.getTime() + delay);
      now = next ?? now;
    }
    // The last one is capped at the 24 h mark, then it has failed.
    const last = nextAttemptAfterFailure(9, created, new Date(created.getTime() + 20 * 3_600_000));
    assert.equal(last?.getTime(), created.getTime() + 24 * 3_600_000);
    assert.equal(nextAttemptAfterFailure(10, created, new Date(created.getTime() + 24 * 3_600_000)), null);
  });
});

describe('signature', () => {
  it('is v1, + base64 HMAC-SHA256 of id.timestamp.body under the secret bytes (Standard Webhooks test vector)', () => {
    // The vector from the Standard Webhooks specification's reference libraries.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const signature = sign(secret, { id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestamp: 1614265330, body: '{"test": 2432232314}' });
    assert.equal(signature, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});

describe('audit from/to bounds', () => {
  it('dates cover whole days; date-times without a zone are UTC; nonsense is null', () => {
    assert.equal(parseBound('2026-03-01', false), '2026-03-01T00:00:00.000Z');
    assert.equal(parseBound('2026-03-01', true), '2026-03-02T00:00:00.000Z');
    assert.equal(parseBound('2026-03-01T10:20:30Z', false), '2026-03-01T10:20:30.000Z');
    assert.equal(parseBound('2026-03-01T10:20:30', true), '2026-03-01T10:20:30.001Z');
    assert.equal(parseBound('2026-03-01T10:20:30+02:00', false), '2026-03-01T08:20:30.000Z');
    for (const bad of ['yesterday', '2026-02-30', '2026-13-01', '2026-03-01T25:00', '', '12345'])
      assert.equal(parseBound(bad, false), null, bad);
  });
});
