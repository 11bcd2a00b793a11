import { canEditCourse, canSeeCourse } from '../courses/policy.js';
import type { CourseFacts, Viewer } from '../courses/policy.js';

/**
 * Sections have no visibility of their own: whoever may see the course sees its sections,
 * whoever may edit the course edits them (the course policy, asked here by name).
 */
export const canSeeSections = (viewer: Viewer, course: CourseFacts): boolean => canSeeCourse(viewer, course);
export const canEditSections = (viewer: Viewer, course: CourseFacts): boolean => canEditCourse(viewer, course);

/** Which sections a list without `course` shows: those of published courses, plus the viewer's own drafts (every draft for an admin). */
export type SectionListScope = 'all' | { publishedOr: number | null };
export function sectionListScope(viewer: Viewer): SectionListScope {
  if (viewer?.role === 'admin') return 'all';
  return { publishedOr: viewer?.id ?? null };
}
