import { canEditCourse, canSeeCourse, isAdmin } from '../courses/policy.js';
import type { CourseFacts, Viewer } from '../courses/policy.js';

/**
 * Who reads instructor insight. Pure functions of the caller and the course; unit-tested
 * without a database.
 */
export type AnalyticsAccess = 'full' | 'not_found' | 'forbidden';

/** A course's analytics: its owner and admins; someone else's draft does not exist (404); anyone else 403. */
export function courseAnalyticsAccess(viewer: Viewer, course: CourseFacts): AnalyticsAccess {
  if (!canSeeCourse(viewer, course)) return 'not_found';
  return canEditCourse(viewer, course) ? 'full' : 'forbidden';
}

/** Which courses the summary covers: every course for admins, their own for instructors, none (403) for anyone else. */
export type SummaryScope = { kind: 'all' } | { kind: 'own'; instructorId: number };

export function summaryScope(viewer: Viewer): SummaryScope | null {
  if (isAdmin(viewer)) return { kind: 'all' };
  if (viewer?.role === 'instructor') return { kind: 'own', instructorId: viewer.id };
  return null;
}
