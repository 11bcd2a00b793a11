import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canDeleteReview, canEditReview, draftScope } from '../../src/modules/reviews/policy.js';

describe('reviews policy', () => {
  const author = { id: 1, role: 'student' } as const;
  const otherStudent = { id: 2, role: 'student' } as const;
  const instructor = { id: 3, role: 'instructor' } as const;
  const admin = { id: 4, role: 'admin' } as const;
  const review = { student_id: 1 };

  it('lets only the author edit', () => {
    assert.equal(canEditReview(author, review), true);
    for (const viewer of [otherStudent, instructor, admin, null]) assert.equal(canEditReview(viewer, review), false);
  });

  it('lets the author and admins delete', () => {
    assert.equal(canDeleteReview(author, review), true);
    assert.equal(canDeleteReview(admin, review), true);
    for (const viewer of [otherStudent, instructor, null]) assert.equal(canDeleteReview(viewer, review), false);
  });

  it("lists drafts' reviews for their owner and admins only", () => {
    assert.deepEqual(draftScope(null), { kind: 'none' });
    assert.deepEqual(draftScope(otherStudent), { kind: 'none' });
    assert.deepEqual(draftScope(instructor), { kind: 'own', instructorId: 3 });
    assert.deepEqual(draftScope(admin), { kind: 'all' });
  });
});
