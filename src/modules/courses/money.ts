/** Prices are integer cents in storage and two-place decimal strings in the API. */

export const MAX_PRICE_CENTS = 9_999_999_999;
const OUT_OF_RANGE = 10 ** 17;

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d{1,4}))?$/i;

export interface ParsedDecimal {
  negative: boolean;
  whole: string;
  fraction: string;
}

/**
 * A decimal as Python's Decimal reads one: `12`, `12.5`, `-0.25`, `.5`, `1e3`, `2.5E-1`; null
 * for anything else (NaN, words, empty). Exact: digits are moved, never multiplied.
 */
export function parseDecimal(text: string): ParsedDecimal | null {
  const match = DECIMAL.exec(text.trim());
  if (!match) return null;
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  const digits = whole + fraction;
  if (digits === '') return null;
  const point = whole.length + Number(exponent);
  const padded = point > digits.length ? digits.padEnd(point, '0') : point < 0 ? '0'.repeat(-point) + digits : digits;
  const at = Math.max(point, 0);
  return {
    negative: sign === '-',
    whole: (padded.slice(0, at) || '0').replace(/^0+(?=\d)/, ''),
    fraction: padded.slice(at).replace(/0+$/, ''),
  };
}

export type PriceProblem = 'invalid' | 'places' | 'negative' | 'too_large';

/** A price as the contract takes it: a number or a string, 0 to 99999999.99, at most two places. */
export function priceToCents(value: string | number): { cents: number } | { problem: PriceProblem } {
  if (typeof value === 'number' && !Number.isFinite(value)) return { problem: 'invalid' };
  // A JavaScript number prints as its shortest round-trip decimal, which is what the client wrote.
  const parsed = parseDecimal(String(value));
  if (!parsed) return { problem: 'invalid' };
  if (parsed.whole.length > 12) return { problem: parsed.negative ? 'negative' : 'too_large' };
  if (parsed.fraction.length > 2) return { problem: 'places' };
  const cents = Number(parsed.whole) * 100 + Number(parsed.fraction.padEnd(2, '0'));
  if (parsed.negative && cents !== 0) return { problem: 'negative' };
  if (cents > MAX_PRICE_CENTS) return { problem: 'too_large' };
  return { cents };
}

/** An inclusive bound of a price filter in cents: any number of places, rounded inward. */
export function boundToCents(text: string, bound: 'min' | 'max'): number | null {
  const parsed = parseDecimal(text);
  if (!parsed) return null;
  // Beyond any price: admits everything or nothing, as the bound says.
  if (parsed.whole.length > 15) return parsed.negative ? -OUT_OF_RANGE : OUT_OF_RANGE;
  const magnitude = Number(parsed.whole) * 100 + Number(parsed.fraction.slice(0, 2).padEnd(2, '0'));
  const remainder = parsed.fraction.length > 2;
  const signed = parsed.negative ? -magnitude : magnitude;
  if (!remainder) return signed;
  // 10.555 as a minimum admits 10.56 and up; as a maximum, 10.55 and down.
  const up = bound === 'min';
  return parsed.negative === up ? signed : signed + (up ? 1 : -1);
}

export function centsToPrice(cents: number): string {
  const whole = Math.floor(cents / 100);
  return `${whole}.${String(cents % 100).padStart(2, '0')}`;
}
