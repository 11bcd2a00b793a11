import { isAdmin } from '../courses/policy.js';
import type { Viewer } from '../courses/policy.js';

/**
 * Who changes a review. Reading follows the course: a review is visible exactly when its
 * course is (`canSeeCourse`).
 */
export interface ReviewFacts {
  student_id: number;
}

/** The author only: admins moderate by deleting, never by rewriting someone's words. */
export const canEditReview = (viewer: Viewer, review: ReviewFacts): boolean => viewer !== null && viewer.id === review.student_id;

export const canDeleteReview = (viewer: Viewer, review: ReviewFacts): boolean => canEditReview(viewer, review) || isAdmin(viewer);

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
