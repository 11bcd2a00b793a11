import { FieldErrorCollector, invalid } from '../../shared/errors.js';

/** The longest range enrollments_by_day covers, in days (a leap year). */
export const MAX_RANGE_DAYS = 366;
export const DEFAULT_RANGE_DAYS = 30;
const DAY_MS = 86_400_000;
const WRONG_FORMAT = 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.';

/** The UTC day (YYYY-MM-DD) of a time. */
export const utcDay = (time: Date): string => time.toISOString().slice(0, 10);

/** Milliseconds of a valid YYYY-MM-DD at UTC midnight, else null (2026-02-30 is not a day). */
function parseDay(raw: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw)) return null;
  const ms = Date.parse(`${raw}T00:00:00.000Z`);
  return Number.isNaN(ms) || utcDay(new Date(ms)) !== raw ? null : ms;
}

export interface DayRange {
  from: string;
  to: string;
  /** Every day from `from` to `to`, inclusive, in order. */
  days: string[];
}

/**
 * The `from` and `to` query parameters, inclusive UTC days: by default the last 30 days
 * ending today; `from` alone runs to today, `to` alone starts 29 days before it. A bad date
 * is a 400 on its parameter; from after to, or more than 366 days, a 400 on the range.
 */
export function dayRange(query: { from?: string | undefined; to?: string | undefined }, now: Date): DayRange {
  const errors = new FieldErrorCollector();
  const given = (name: 'from' | 'to'): number | undefined => {
    const raw = query[name]?.trim();
    if (raw === undefined || raw === '') return undefined;
    const ms = parseDay(raw);
    if (ms === null) errors.add(name, WRONG_FORMAT);
    return ms ?? undefined;
  };
  const fromGiven = given('from');
  const toGiven = given('to');
  errors.throwIfAny();
  const today = Date.parse(`${utcDay(now)}T00:00:00.000Z`);
  const to = toGiven ?? today;
  const from = fromGiven ?? to - (DEFAULT_RANGE_DAYS - 1) * DAY_MS;
  if (from > to) throw invalid({ non_field_errors: ['from must be on or before to.'] }, 'invalid_range');
  const count = Math.round((to - from) / DAY_MS) + 1;
  if (count > MAX_RANGE_DAYS)
    throw invalid({ non_field_errors: [`The range may cover at most ${MAX_RANGE_DAYS} days.`] }, 'range_too_long');
  const days = Array.from({ length: count }, (_, i) => utcDay(new Date(from + i * DAY_MS)));
  return { from: days[0] ?? utcDay(new Date(from)), to: days[days.length - 1] ?? utcDay(new Date(to)), days };
}
