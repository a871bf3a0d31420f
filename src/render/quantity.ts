// Kubernetes resource quantities ("1500m", "64Gi", "1e3", 8) as exact numbers, so sums of requests come out exactly
// as the scheduler computes them. Values are held in nano-units (10^-9) as bigints: the finest precision Kubernetes
// keeps, finer digits being rounded up as its parser does.

export interface Quantity {
  /** The value times 10^9. */
  nanos: bigint;
  /** Written with a binary suffix (Ki, Mi, ...): a sum of only such quantities is written the same way. */
  binary: boolean;
}

const NANO = 10n ** 9n;
const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
// The grammar of the CRDs' quantity pattern; the exponent form takes an integer exponent, as the Go parser does.
const QUANTITY = /^([+-])?(\d+(?:\.\d*)?|\.\d+)(?:([KMGTPE]i)|([numkMGTPE])|[eE]([+-]?\d+))?$/;

/** Divides rounding away from zero, as Kubernetes rounds digits beyond nano. */
function divideUp(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  if (quotient * denominator === numerator) return quotient;
  return numerator < 0n ? quotient - 1n : quotient + 1n;
}

/** Parses a quantity as Kubernetes does; throws on anything its parser refuses. */
export function parseQuantity(input: string | number): Quantity {
  const text = typeof input === 'number' ? String(input) : input.trim();
  const match = QUANTITY.exec(text);
  if (!match) throw new Error(`${JSON.stringify(input)} is not a Kubernetes quantity`);
  const [, sign, number, binarySuffix, decimalSuffix, exponent] = match;
  const [whole = '', fraction = ''] = number!.split('.');
  // The digits as one integer, scaled by 10^-fraction.length.
  let digits = BigInt(`${whole}${fraction}` || '0');
  let power10 = -fraction.length + 9;
  if (binarySuffix) digits <<= BigInt(BINARY_SUFFIXES[binarySuffix]!);
  else if (exponent !== undefined) power10 += Number(exponent);
  else power10 += DECIMAL_SUFFIXES[decimalSuffix ?? '']!;
  let nanos = power10 >= 0 ? digits * 10n ** BigInt(power10) : divideUp(digits, 10n ** BigInt(-power10));
  if (sign === '-') nanos = -nanos;
  return { nanos, binary: binarySuffix !== undefined };
}

export const addQuantities = (a: Quantity, b: Quantity): Quantity => ({
  nanos: a.nanos + b.nanos,
  binary: a.binary && b.binary,
});

/** The larger value (the first on a tie, keeping its notation). */
export const maxQuantity = (a: Quantity, b: Quantity): Quantity => (b.nanos > a.nanos ? b : a);

export const scaleQuantity = (q: Quantity, factor: number): Quantity => ({
  nanos: q.nanos * BigInt(factor),
  binary: q.binary,
});

/** The longest run of trailing zero groups: how many times `value` divides by `base` (at most `limit`). */
function exactPower(value: bigint, base: bigint, limit: number): number {
  let power = 0;
  while (power < limit && value !== 0n && value % base === 0n) {
    value /= base;
    power++;
  }
  return power;
}

/**
 * Kubernetes' canonical form: no fractional digits and the largest suffix that keeps the value exact, binary for
 * sums of binary quantities of at least 1Ki, decimal otherwise (2000 → "2k", 1.5 → "1500m", 64Gi+64Gi → "128Gi").
 */
export function formatQuantity(q: Quantity): string {
  const sign = q.nanos < 0n ? '-' : '';
  const magnitude = q.nanos < 0n ? -q.nanos : q.nanos;
  if (magnitude === 0n) return '0';
  if (q.binary && magnitude % NANO === 0n && magnitude / NANO >= 1024n) {
    const units = magnitude / NANO;
    const power = exactPower(units, 1024n, 6);
    const suffix = Object.keys(BINARY_SUFFIXES)[power - 1];
    if (suffix) return `${sign}${units / 1024n ** BigInt(power)}${suffix}`;
  }
  // Groups of three decimal digits above nano: 0 → "n", 3 → "" (units), 9 → "E".
  const groups = exactPower(magnitude, 1000n, 9);
  const suffix = Object.entries(DECIMAL_SUFFIXES).find(([, p]) => p === groups * 3 - 9)![0];
  return `${sign}${magnitude / 1000n ** BigInt(groups)}${suffix}`;
}
