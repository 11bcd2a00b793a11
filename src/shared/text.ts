import type { FieldErrorCollector } from './errors.js';

/** Titles of courses, lessons and sections. */
export const MAX_TITLE_LENGTH = 200;

/**
 * A required one-line text field as DRF's CharField reads it: surrounding whitespace is
 * trimmed first, then blank and length are judged, so every module that takes a title or a
 * name applies the same rule (a 200-character title with surrounding spaces is accepted
 * everywhere, a blank one refused everywhere). Schemas only say it is a string.
 */
export function cleanRequiredText(errors: FieldErrorCollector, field: string, raw: string, maxLength: number): string {
  const value = raw.trim();
  if (value === '') errors.add(field, 'This field may not be blank.');
  else if (value.length > maxLength) errors.add(field, `Ensure this field has no more than ${maxLength} characters.`);
  return value;
}
