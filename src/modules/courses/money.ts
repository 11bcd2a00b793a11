/** Prices are integer cents in storage and two-place decimal strings in the API. */

export const MAX_PRICE_CENTS = 9_999_999_999;

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?$|^([+-]?)\.(\d+)$/;

export interface ParsedDecimal {
  negative: boolean;
  whole: string;
  fraction: string;
}

/** A decimal written plainly (`12`, `12.5`, `-0.25`, `.5`); null for anything else (exponents, NaN, words). */
export function parseDecimal(text: string): ParsedDecimal | null {
  const match = DECIMAL.exec(text.trim());
  if (!match) return null;
  const negative = (match[1] ?? match[4]) === '-';
  const whole = (match[2] ?? '0').replace(/^0+(?=\d)/, '');
  const fraction = (match[3] ?? match[5] ?? '').replace(/0+$/, '');
  return { negative, whole, fraction };
}

export type PriceProblem = 'invalid' | 'places' | 'negative' | 'too_large';

/** A price as the contract takes it: a number or a string, 0 to 99999999.99, at most two places. */
export function priceToCents(value: string | number): { cents: number } | { problem: PriceProblem } {
  if (typeof value === 'number' && !Number.isFinite(value)) return { problem: 'invalid' };
  // A JavaScript number prints as its shortest round-trip decimal, which is what the client wrote.
  const text = typeof value === 'number' ? numberToPlain(value) : value;
  const parsed = text === null ? null : parseDecimal(text);
  if (!parsed) return { problem: 'invalid' };
  if (parsed.fraction.length > 2) return { problem: 'places' };
  const cents = Number(parsed.whole) * 100 + Number(parsed.fraction.padEnd(2, '0'));
  if (parsed.negative && cents !== 0) return { problem: 'negative' };
  if (cents > MAX_PRICE_CENTS) return { problem: 'too_large' };
  return { cents };
}

/** An inclusive bound of a price filter in cents: any number of places, rounded inward. */
export function boundToCents(text: string, bound: 'min' | 'max'): number | null {
  const parsed = parseDecimal(text);
  if (!parsed || parsed.whole.length > 15) return null;
  const magnitude = Number(parsed.whole) * 100 + Number(parsed.fraction.slice(0, 2).padEnd(2, '0'));
  const remainder = parsed.fraction.length > 2;
  const signed = parsed.negative ? -magnitude : magnitude;
  if (!remainder) return signed;
  // 10.555 as a minimum admits 10.56 and up; as a maximum, 10.55 and down.
  const up = bound === 'min';
  return parsed.negative === up ? signed : signed + (up ? 1 : -1);
}

function numberToPlain(value: number): string | null {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  // Exponent form only happens far outside the accepted range or below a cent.
  const sign = value < 0 ? '-' : '';
  return Math.abs(value) >= 1 ? `${sign}1${'0'.repeat(21)}` : `${sign}0.001`;
}

export function centsToPrice(cents: number): string {
  const whole = Math.floor(cents / 100);
  return `${whole}.${String(cents % 100).padStart(2, '0')}`;
}
