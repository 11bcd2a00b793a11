import type { Role } from '../../db/types.js';

/**
 * The one visibility policy: every read path (list, detail, search, counts, lessons, media,
 * reviews, enrollment) asks these questions, so a draft cannot leak through a side door.
 * Pure functions of the caller and the object; unit-tested without a database.
 */
export type Viewer = { id: number; role: Role } | null;

export interface CourseFacts {
  instructor_id: number;
  is_published: boolean;
}

export interface LessonFacts {
  is_preview: boolean;
}

export const isAdmin = (viewer: Viewer): boolean => viewer?.role === 'admin';

export const ownsCourse = (viewer: Viewer, course: CourseFacts): boolean => viewer !== null && viewer.id === course.instructor_id;

/** A draft exists only for its owner and admins; everyone else gets 404. */
export const canSeeCourse = (viewer: Viewer, course: CourseFacts): boolean =>
  course.is_published || ownsCourse(viewer, course) || isAdmin(viewer);

export const canEditCourse = (viewer: Viewer, course: CourseFacts): boolean => ownsCourse(viewer, course) || isAdmin(viewer);

/** Only approved instructors and admins create courses; instructor status is read from the database. */
export function courseCreationDenial(role: Role, instructorStatus: string): string | null {
  if (role === 'admin') return null;
  if (role !== 'instructor') return 'Only instructors may create courses.';
  if (instructorStatus === 'approved') return null;
  if (instructorStatus === 'pending') return 'Your instructor account is awaiting approval by an admin.';
  return 'Your instructor application was rejected; you may not create courses.';
}

/**
 * Which courses a list shows the viewer: null when none can be visible, else the conditions.
 * Published courses by default; `mine` narrows to the viewer's own courses, drafts included;
 * `is_published=false` lists the drafts the viewer may see (every draft for an admin, their
 * own for anyone else) — the list form of canSeeCourse.
 */
export interface CourseListScope {
  isPublished?: boolean;
  instructorId?: number;
}

export function courseListScope(viewer: Viewer, request: { mine: boolean; isPublished: boolean | undefined }): CourseListScope | null {
  if (request.mine) {
    if (viewer === null) return null;
    return request.isPublished === undefined ? { instructorId: viewer.id } : { instructorId: viewer.id, isPublished: request.isPublished };
  }
  if (request.isPublished !== false) return { isPublished: true };
  if (viewer === null) return null;
  return isAdmin(viewer) ? { isPublished: false } : { instructorId: viewer.id, isPublished: false };
}

/** Why an editor may not delete the course, or null. The owner waits while students are enrolled; an admin may not be held back. */
export function courseDeletionDenial(viewer: Viewer, course: { students_count: number }): string | null {
  if (isAdmin(viewer) || course.students_count === 0) return null;
  return `This course has ${course.students_count} enrolled student${course.students_count === 1 ? '' : 's'}; it cannot be deleted while students are enrolled.`;
}

export type LessonAccess = 'full' | 'not_found' | 'unauthenticated' | 'forbidden' | 'locked';

/**
 * Where an enrolled student stands in a sequential course: `sequential` is the course's flag,
 * `previousCompleted` whether every lesson before this one (by order) is completed by them.
 * Left out, the lesson is not in a sequence (as for a course that is not sequential).
 */
export interface SequenceFacts {
  sequential: boolean;
  previousCompleted: boolean;
}

/**
 * Who reads a lesson in full: the owner, admins, students enrolled in the course, and anyone
 * for a preview lesson of a published course. A lesson of someone else's draft is 404.
 * In a sequential course an enrolled student's lesson is 'locked' until every lesson before
 * it is completed; owners, admins and preview lessons are never locked (a preview is open to
 * anyone, so locking it for the enrolled would only hide what a signed-out visitor sees).
 * Every path that gives a lesson's content or records progress in it (detail, list, signed
 * media URLs, completion, position, quiz) asks this function.
 */
export function lessonAccess(
  viewer: Viewer,
  course: CourseFacts,
  lesson: LessonFacts,
  enrolled: boolean,
  sequence?: SequenceFacts,
): LessonAccess {
  if (!canSeeCourse(viewer, course)) return 'not_found';
  if (canEditCourse(viewer, course)) return 'full';
  if (lesson.is_preview) return 'full';
  if (enrolled) return sequence?.sequential === true && !sequence.previousCompleted ? 'locked' : 'full';
  return viewer === null ? 'unauthenticated' : 'forbidden';
}

/**
 * The locks of a whole course for one enrolled student, the list form of lessonAccess:
 * given the lessons by order with whether each is completed, which are locked. A lesson is
 * locked when the course is sequential, it is not a preview, and some lesson before it is
 * not completed.
 */
export function sequentialLocks(sequential: boolean, lessons: readonly { is_preview: boolean; completed: boolean }[]): boolean[] {
  let allBeforeDone = true;
  return lessons.map((lesson) => {
    const locked = sequential && !lesson.is_preview && !allBeforeDone;
    if (!lesson.completed) allBeforeDone = false;
    return locked;
  });
}

/** What a locked lesson answers on every path (403, code `lesson_locked`). */
export const LESSON_LOCKED = 'Complete the previous lessons of this course first.';
