/**
 * The key under which names are unique "ignoring case": Unicode compatibility-normalised
 * (NFKC) and lower-cased, computed here in the application so that both databases agree
 * (SQLite's lower() folds ASCII only; PostgreSQL's follows its collation). Stored beside
 * the name with a unique index; every lookup by name compares keys.
 */
export const caseKey = (value: string): string => value.normalize('NFKC').toLowerCase();
