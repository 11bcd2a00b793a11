/** At most this many words of a search are used; each one narrows the result further. */
export const MAX_SEARCH_WORDS = 12;

/**
 * The words of a search as both full-text indexes split text: runs of letters, digits and
 * private-use characters (FTS5 unicode61's "L* N* Co"; the PostgreSQL side turns punctuation
 * into spaces before parsing). A term such as `node.js` becomes two words that must both
 * begin a word; a term of punctuation alone has no word to begin and is ignored.
 */
export function searchWords(search: string): string[] {
  const words =
    search
      .normalize('NFC')
      .toLowerCase()
      .match(/[\p{L}\p{N}\p{Co}]+/gu) ?? [];
  return [...new Set(words)].slice(0, MAX_SEARCH_WORDS);
}
