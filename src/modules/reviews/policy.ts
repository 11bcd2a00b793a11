import { isAdmin, ownsCourse } from '../courses/policy.js';
import type { CourseFacts, Viewer } from '../courses/policy.js';

/**
 * Who sees and changes a review. Reading follows the course (a review is visible exactly
 * when its course is, `canSeeCourse`), except that a hidden review exists only for its
 * author and admins.
 */
export interface ReviewFacts {
  student_id: number;
}

export interface HiddenFacts extends ReviewFacts {
  is_hidden: boolean;
}

/** The author only: admins moderate by hiding or deleting, never by rewriting someone's words. */
export const canEditReview = (viewer: Viewer, review: ReviewFacts): boolean => viewer !== null && viewer.id === review.student_id;

export const canDeleteReview = (viewer: Viewer, review: ReviewFacts): boolean => canEditReview(viewer, review) || isAdmin(viewer);

/** The author and admins see a hidden review, and only they ever see the `is_hidden` field. */
export const seesHiddenFlag = (viewer: Viewer, review: ReviewFacts): boolean => canEditReview(viewer, review) || isAdmin(viewer);

/** Whether the review exists for the viewer, its course being visible to them. */
export const canSeeReviewOfVisibleCourse = (viewer: Viewer, review: HiddenFacts): boolean =>
  !review.is_hidden || seesHiddenFlag(viewer, review);

/** The course's owner replies (not admins: the reply speaks for the instructor). */
export const canReply = (viewer: Viewer, course: CourseFacts): boolean => ownsCourse(viewer, course);

/** The owner, or an admin moderating, removes a reply. */
export const canDeleteReply = (viewer: Viewer, course: CourseFacts): boolean => ownsCourse(viewer, course) || isAdmin(viewer);

/** Anyone signed in but the author reports a review. */
export const canReport = (viewer: Viewer, review: ReviewFacts): boolean => viewer !== null && viewer.id !== review.student_id;

/**
 * Whose drafts' reviews a list shows, the SQL form of `canSeeCourse` for a viewer: none
 * (anonymous, students), their own (instructors), every one (admins).
 */
export type DraftScope = { kind: 'none' } | { kind: 'own'; instructorId: number } | { kind: 'all' };

export function draftScope(viewer: Viewer): DraftScope {
  if (isAdmin(viewer)) return { kind: 'all' };
  if (viewer?.role === 'instructor') return { kind: 'own', instructorId: viewer.id };
  return { kind: 'none' };
}

/** Which hidden reviews a list shows, the SQL form of `canSeeReviewOfVisibleCourse`: none, the viewer's own, every one. */
export type HiddenScope = { kind: 'none' } | { kind: 'own'; studentId: number } | { kind: 'all' };

export function hiddenScope(viewer: Viewer): HiddenScope {
  if (isAdmin(viewer)) return { kind: 'all' };
  if (viewer !== null) return { kind: 'own', studentId: viewer.id };
  return { kind: 'none' };
}
