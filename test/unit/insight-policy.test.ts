import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Viewer } from '../../src/modules/courses/policy.js';
import { courseAnalyticsAccess, summaryScope } from '../../src/modules/analytics/policy.js';
import { dayRange } from '../../src/modules/analytics/days.js';
import { percent } from '../../src/modules/analytics/service.js';
import {
  canDeleteReply,
  canReply,
  canReport,
  canSeeReviewOfVisibleCourse,
  hiddenScope,
  seesHiddenFlag,
} from '../../src/modules/reviews/policy.js';
import { HttpError } from '../../src/shared/errors.js';

const owner: Viewer = { id: 1, role: 'instructor' };
const otherInstructor: Viewer = { id: 2, role: 'instructor' };
const author: Viewer = { id: 3, role: 'student' };
const student: Viewer = { id: 5, role: 'student' };
const admin: Viewer = { id: 4, role: 'admin' };
const published = { instructor_id: 1, is_published: true };
const draft = { instructor_id: 1, is_published: false };
const review = { student_id: 3, is_hidden: false };
const hidden = { student_id: 3, is_hidden: true };

describe('review moderation policy', () => {
  it('shows is_hidden, and a hidden review, to its author and admins only', () => {
    const table: [Viewer, boolean][] = [
      [author, true],
      [admin, true],
      [owner, false],
      [student, false],
      [otherInstructor, false],
      [null, false],
    ];
    for (const [viewer, sees] of table) {
      assert.equal(seesHiddenFlag(viewer, review), sees, JSON.stringify(viewer));
      assert.equal(canSeeReviewOfVisibleCourse(viewer, hidden), sees, JSON.stringify(viewer));
      assert.equal(canSeeReviewOfVisibleCourse(viewer, review), true);
    }
  });

  it('lets only the course owner reply; the owner and admins delete a reply', () => {
    const table: [Viewer, boolean, boolean][] = [
      [owner, true, true],
      [admin, false, true],
      [otherInstructor, false, false],
      [author, false, false],
      [null, false, false],
    ];
    for (const [viewer, reply, remove] of table) {
      assert.equal(canReply(viewer, published), reply, JSON.stringify(viewer));
      assert.equal(canDeleteReply(viewer, published), remove, JSON.stringify(viewer));
    }
  });

  it('lets anyone signed in but the author report', () => {
    const table: [Viewer, boolean][] = [
      [author, false],
      [student, true],
      [owner, true],
      [admin, true],
      [null, false],
    ];
    for (const [viewer, may] of table) assert.equal(canReport(viewer, review), may, JSON.stringify(viewer));
  });

  it('lists hidden reviews: none for anonymous, own for the signed in, all for admins', () => {
    assert.deepEqual(hiddenScope(null), { kind: 'none' });
    assert.deepEqual(hiddenScope(author), { kind: 'own', studentId: 3 });
    assert.deepEqual(hiddenScope(owner), { kind: 'own', studentId: 1 });
    assert.deepEqual(hiddenScope(admin), { kind: 'all' });
  });
});

describe('analytics policy', () => {
  it("lets the owner and admins read a course, 403 for others, 404 for someone else's draft", () => {
    const table: [Viewer, string, string][] = [
      [owner, 'full', 'full'],
      [admin, 'full', 'full'],
      [otherInstructor, 'forbidden', 'not_found'],
      [student, 'forbidden', 'not_found'],
      [null, 'forbidden', 'not_found'],
    ];
    for (const [viewer, ofPublished, ofDraft] of table) {
      assert.equal(courseAnalyticsAccess(viewer, published), ofPublished, JSON.stringify(viewer));
      assert.equal(courseAnalyticsAccess(viewer, draft), ofDraft, JSON.stringify(viewer));
    }
  });

  it('scopes the summary: every course for admins, own for instructors, none for students', () => {
    assert.deepEqual(summaryScope(admin), { kind: 'all' });
    assert.deepEqual(summaryScope(owner), { kind: 'own', instructorId: 1 });
    assert.equal(summaryScope(student), null);
    assert.equal(summaryScope(null), null);
  });

  it('rounds percentages to 2 places, half up, and 0 of nothing is 0', () => {
    assert.equal(percent(1, 3), 33.33);
    assert.equal(percent(2, 3), 66.67);
    assert.equal(percent(1, 8), 12.5);
    assert.equal(percent(1, 16), 6.25);
    assert.equal(percent(1, 200_000), 0); // 0.0005 %
    assert.equal(percent(1, 20_000), 0.01); // 0.005 %: half up
    assert.equal(percent(0, 0), 0);
    assert.equal(percent(5, 5), 100);
  });
});

describe('analytics day ranges', () => {
  const now = new Date('2026-03-01T23:30:00.000Z');
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return error instanceof HttpError ? `${error.statusCode} ${error.code} ${Object.keys(error.body).join()}` : 'other';
    }
    return 'none';
  };

  it('defaults to the 30 UTC days ending today; `to` alone ends there; every day listed', () => {
    const range = dayRange({}, now);
    assert.deepEqual([range.from, range.to, range.days.length], ['2026-01-31', '2026-03-01', 30]);
    assert.deepEqual(dayRange({ to: '2024-03-01' }, now).days.slice(-2), ['2024-02-29', '2024-03-01']);
    assert.deepEqual(dayRange({ from: '2026-02-27' }, now).days, ['2026-02-27', '2026-02-28', '2026-03-01']);
    assert.deepEqual(dayRange({ from: '2026-03-01', to: '2026-03-01' }, now).days, ['2026-03-01']);
    assert.equal(dayRange({ from: '2024-01-01', to: '2024-12-31' }, now).days.length, 366);
  });

  it('refuses bad days, reversed and over-long ranges', () => {
    assert.equal(
      codeOf(() => dayRange({ from: '2026-02-29' }, now)),
      '400 invalid from',
    );
    assert.equal(
      codeOf(() => dayRange({ to: '01/03/2026' }, now)),
      '400 invalid to',
    );
    assert.equal(
      codeOf(() => dayRange({ from: 'x', to: 'y' }, now)),
      '400 invalid from,to',
    );
    assert.equal(
      codeOf(() => dayRange({ from: '2026-03-02' }, now)),
      '400 invalid_range non_field_errors',
    );
    assert.equal(
      codeOf(() => dayRange({ from: '2025-01-01', to: '2026-01-02' }, now)),
      '400 range_too_long non_field_errors',
    );
    assert.equal(
      codeOf(() => dayRange({ from: '2025-01-01', to: '2026-01-01' }, now)),
      'none',
    );
  });
});
