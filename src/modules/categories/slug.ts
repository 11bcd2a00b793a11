/**
 * Django's `slugify` (allow_unicode=False): accents folded to ASCII, anything else that is not
 * a word character, space or hyphen dropped, runs of spaces and hyphens joined by one hyphen.
 * "Data Science & AI" → "data-science-ai".
 */
export function slugify(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[^\p{ASCII}]/gu, '')
    .toLowerCase()
    .replace(/[^\w\s-]/g, '')
    .replace(/[-\s]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
}
