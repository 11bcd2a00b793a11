import type { RevealAnswers } from '../../db/types.js';

/**
 * Who sees what of a quiz: pure functions, unit-tested as tables without a database.
 * Authors (the course's owner, admins) are decided by the courses policy (canEditCourse).
 */

/**
 * Whether a student's attempt results may show the correct choices, accepted answers and
 * explanations: always, never, or once the student has passed this quiz (any attempt).
 * Authors always see them.
 */
export function revealsAnswers(rule: RevealAnswers, viewer: { isAuthor: boolean; hasPassed: boolean }): boolean {
  if (viewer.isAuthor) return true;
  switch (rule) {
    case 'always':
      return true;
    case 'after_pass':
      return viewer.hasPassed;
    case 'never':
      return false;
  }
}

/** Attempts left for a student: null when unlimited, never below 0. */
export function attemptsLeft(maxAttempts: number | null, used: number): number | null {
  return maxAttempts === null ? null : Math.max(0, maxAttempts - used);
}
