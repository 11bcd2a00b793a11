export const nowIso = (): string => new Date().toISOString();

/** SQLite hands back the ISO text it was given; PostgreSQL a Date. The API speaks ISO. */
export function toIso(value: string | Date): string {
  return typeof value === 'string' ? value : value.toISOString();
}

export function toIsoOrNull(value: string | Date | null): string | null {
  return value === null ? null : toIso(value);
}

/** SQLite stores booleans as 0/1. */
export const toBool = (value: boolean | number): boolean => value === true || value === 1;
