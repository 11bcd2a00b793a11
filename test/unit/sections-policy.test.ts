import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lessonAccess, sequentialLocks } from '../../src/modules/courses/policy.js';
import type { LessonAccess, SequenceFacts, Viewer } from '../../src/modules/courses/policy.js';

const owner: Viewer = { id: 1, role: 'instructor' };
const otherInstructor: Viewer = { id: 2, role: 'instructor' };
const student: Viewer = { id: 3, role: 'student' };
const admin: Viewer = { id: 4, role: 'admin' };
const published = { instructor_id: 1, is_published: true };
const draft = { instructor_id: 1, is_published: false };
const lesson = { is_preview: false };
const preview = { is_preview: true };

const open: SequenceFacts = { sequential: true, previousCompleted: true };
const blocked: SequenceFacts = { sequential: true, previousCompleted: false };
const notSequential: SequenceFacts = { sequential: false, previousCompleted: false };

describe('sequential lessons: the lesson policy as a table', () => {
  const table: [string, Viewer, typeof published, typeof lesson, boolean, SequenceFacts | undefined, LessonAccess][] = [
    // Enrolled students: locked only in a sequential course with an earlier lesson not done.
    ['enrolled, earlier lesson open', student, published, lesson, true, blocked, 'locked'],
    ['enrolled, every earlier lesson done', student, published, lesson, true, open, 'full'],
    ['enrolled, course not sequential', student, published, lesson, true, notSequential, 'full'],
    ['enrolled, no sequence facts given', student, published, lesson, true, undefined, 'full'],
    ['enrolled, preview lesson is never locked', student, published, preview, true, blocked, 'full'],
    // Not enrolled: the lock never turns a refusal into something else.
    ['not enrolled student', student, published, lesson, false, blocked, 'forbidden'],
    ['not enrolled, preview', student, published, preview, false, blocked, 'full'],
    ['anonymous', null, published, lesson, false, blocked, 'unauthenticated'],
    ['anonymous, preview', null, published, preview, false, blocked, 'full'],
    ['other instructor', otherInstructor, published, lesson, false, blocked, 'forbidden'],
    // Owners and admins are never locked.
    ['owner', owner, published, lesson, false, blocked, 'full'],
    ['owner of a draft', owner, draft, lesson, false, blocked, 'full'],
    ['admin', admin, published, lesson, false, blocked, 'full'],
    ['admin, draft', admin, draft, lesson, false, blocked, 'full'],
    // A draft is someone else's: 404 before any lock.
    ['enrolled in a draft', student, draft, lesson, true, blocked, 'not_found'],
    ['anonymous, draft preview', null, draft, preview, false, open, 'not_found'],
  ];
  for (const [name, viewer, course, facts, enrolled, sequence, expected] of table) {
    it(`${name} → ${expected}`, () => {
      assert.equal(lessonAccess(viewer, course, facts, enrolled, sequence), expected);
    });
  }
});

describe('sequentialLocks: the locks of a course outline', () => {
  const l = (completed: boolean, is_preview = false) => ({ completed, is_preview });
  const table: [string, boolean, ReturnType<typeof l>[], boolean[]][] = [
    ['nothing done: only the first is open', true, [l(false), l(false), l(false)], [false, true, true]],
    ['the first done: the second opens', true, [l(true), l(false), l(false)], [false, false, true]],
    ['all done: nothing locked', true, [l(true), l(true), l(true)], [false, false, false]],
    ['a gap locks every later lesson, done or not', true, [l(false), l(true), l(true)], [false, true, true]],
    ['a preview is never locked, but still counts as an earlier lesson', true, [l(false), l(false, true), l(false)], [false, false, true]],
    ['a completed preview opens what follows', true, [l(true), l(true, true), l(false)], [false, false, false]],
    ['not sequential: nothing locked', false, [l(false), l(false), l(false)], [false, false, false]],
    ['empty course', true, [], []],
  ];
  for (const [name, sequential, lessons, expected] of table) {
    it(name, () => assert.deepEqual(sequentialLocks(sequential, lessons), expected));
  }

  it('agrees with lessonAccess lesson by lesson', () => {
    const lessons = [l(true), l(false), l(true, true), l(false), l(true)];
    const locks = sequentialLocks(true, lessons);
    lessons.forEach((facts, i) => {
      const previousCompleted = lessons.slice(0, i).every((x) => x.completed);
      const access = lessonAccess(student, published, facts, true, { sequential: true, previousCompleted });
      assert.equal(access === 'locked', locks[i], `lesson ${i}`);
    });
  });
});
