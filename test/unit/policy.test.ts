import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  canEditCourse,
  canSeeCourse,
  courseCreationDenial,
  courseDeletionDenial,
  courseListScope,
  isAdmin,
  lessonAccess,
  ownsCourse,
} from '../../src/modules/courses/policy.js';
import type { Viewer } from '../../src/modules/courses/policy.js';

const owner: Viewer = { id: 1, role: 'instructor' };
const otherInstructor: Viewer = { id: 2, role: 'instructor' };
const student: Viewer = { id: 3, role: 'student' };
const admin: Viewer = { id: 4, role: 'admin' };
const published = { instructor_id: 1, is_published: true };
const draft = { instructor_id: 1, is_published: false };

describe('course policy', () => {
  it('isAdmin and ownsCourse', () => {
    assert.equal(isAdmin(admin), true);
    assert.equal(isAdmin(owner), false);
    assert.equal(isAdmin(null), false);
    assert.equal(ownsCourse(owner, draft), true);
    assert.equal(ownsCourse(otherInstructor, draft), false);
    assert.equal(ownsCourse(null, draft), false);
  });

  it('a published course is seen by everyone; a draft by its owner and admins only', () => {
    for (const viewer of [null, student, otherInstructor, owner, admin]) assert.equal(canSeeCourse(viewer, published), true);
    assert.deepEqual(
      [null, student, otherInstructor, owner, admin].map((v) => canSeeCourse(v, draft)),
      [false, false, false, true, true],
    );
  });

  it('the owner and admins edit, nobody else', () => {
    for (const course of [published, draft]) {
      assert.deepEqual(
        [null, student, otherInstructor, owner, admin].map((v) => canEditCourse(v, course)),
        [false, false, false, true, true],
      );
    }
  });

  it('only approved instructors and admins create courses, and the others hear why', () => {
    assert.equal(courseCreationDenial('admin', 'none'), null);
    assert.equal(courseCreationDenial('instructor', 'approved'), null);
    assert.match(courseCreationDenial('instructor', 'pending') ?? '', /awaiting approval/);
    assert.match(courseCreationDenial('instructor', 'rejected') ?? '', /rejected/);
    assert.match(courseCreationDenial('student', 'none') ?? '', /Only instructors/);
    assert.match(courseCreationDenial('student', 'approved') ?? '', /Only instructors/, 'a status never makes a student an instructor');
  });

  it('the owner may not delete while students are enrolled; an admin may', () => {
    assert.equal(courseDeletionDenial(owner, { students_count: 0 }), null);
    assert.match(courseDeletionDenial(owner, { students_count: 1 }) ?? '', /1 enrolled student;/);
    assert.match(courseDeletionDenial(owner, { students_count: 3 }) ?? '', /3 enrolled students/);
    assert.equal(courseDeletionDenial(admin, { students_count: 3 }), null);
  });

  describe('course list scope', () => {
    const scope = (viewer: Viewer, mine: boolean, isPublished?: boolean) => courseListScope(viewer, { mine, isPublished });

    it('shows published courses by default, to everyone, admins included', () => {
      for (const viewer of [null, student, owner, admin]) {
        assert.deepEqual(scope(viewer, false), { isPublished: true });
        assert.deepEqual(scope(viewer, false, true), { isPublished: true });
      }
    });

    it('mine: the caller’s own courses, drafts included, narrowed by is_published when given', () => {
      assert.deepEqual(scope(owner, true), { instructorId: 1 });
      assert.deepEqual(scope(owner, true, false), { instructorId: 1, isPublished: false });
      assert.deepEqual(scope(owner, true, true), { instructorId: 1, isPublished: true });
      assert.deepEqual(scope(admin, true), { instructorId: 4 }, 'an admin’s own courses, not everyone’s');
      assert.equal(scope(null, true), null, 'anonymous owns nothing');
    });

    it('is_published=false: every draft for an admin, one’s own drafts otherwise, nothing for anonymous', () => {
      assert.deepEqual(scope(admin, false, false), { isPublished: false });
      assert.deepEqual(scope(otherInstructor, false, false), { instructorId: 2, isPublished: false });
      assert.deepEqual(scope(student, false, false), { instructorId: 3, isPublished: false });
      assert.equal(scope(null, false, false), null);
    });

    it('never admits a course that canSeeCourse refuses', () => {
      const courses = [published, draft, { instructor_id: 2, is_published: false }, { instructor_id: 2, is_published: true }];
      for (const viewer of [null, student, otherInstructor, owner, admin]) {
        for (const mine of [false, true]) {
          for (const isPublished of [undefined, true, false]) {
            const s = scope(viewer, mine, isPublished);
            if (!s) continue;
            for (const course of courses) {
              const admitted =
                (s.isPublished === undefined || s.isPublished === course.is_published) &&
                (s.instructorId === undefined || s.instructorId === course.instructor_id);
              if (admitted) assert.ok(canSeeCourse(viewer, course), JSON.stringify({ viewer, mine, isPublished, course }));
            }
          }
        }
      }
    });
  });

  it('lesson access: owner and admins in full; enrolled students; previews of published courses for anyone', () => {
    const lesson = { is_preview: false };
    const preview = { is_preview: true };
    assert.equal(lessonAccess(owner, draft, lesson, false), 'full');
    assert.equal(lessonAccess(admin, draft, lesson, false), 'full');
    assert.equal(lessonAccess(student, draft, preview, true), 'not_found');
    assert.equal(lessonAccess(student, published, lesson, true), 'full');
    assert.equal(lessonAccess(null, published, preview, false), 'full');
    assert.equal(lessonAccess(null, published, lesson, false), 'unauthenticated');
    assert.equal(lessonAccess(student, published, lesson, false), 'forbidden');
  });
});
