/** The slug column's width (varchar(120)). */
export const SLUG_COLUMN_LENGTH = 120;

/**
 * Longest slug slugify returns: the column less room for the "-<n>" a clashing slug is
 * numbered with, so that a numbered slug fits too.
 */
export const MAX_SLUG_LENGTH = SLUG_COLUMN_LENGTH - 10;

/**
 * Django's `slugify` (allow_unicode=False): accents folded to ASCII, anything else that is not
 * a word character, space or hyphen dropped, runs of spaces and hyphens joined by one hyphen.
 * "Data Science & AI" → "data-science-ai". Then clipped to MAX_SLUG_LENGTH, as a Django
 * SlugField's max_length would require: compatibility folding can lengthen a name ("Ⅷ" is
 * "VIII"), so a name within its own limit may give a slug past the column's.
 */
export function slugify(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[^\p{ASCII}]/gu, '')
    .toLowerCase()
    .replace(/[^\w\s-]/g, '')
    .replace(/[-\s]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, MAX_SLUG_LENGTH)
    .replace(/[-_]+$/, '');
}
