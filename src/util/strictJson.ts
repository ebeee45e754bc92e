/**
 * The JSON reader for what callers send (request bodies, import files): JSON.parse, after one pass
 * over the text that refuses what JSON.parse would accept but Carewall could not keep exactly or
 * safely:
 *  - invalid UTF-8 (decoded with the fatal decoder: a lenient one stores U+FFFD in its place),
 *  - a `\uD800`-style escape of half a surrogate pair (no character, and not storable as UTF-8),
 *  - nesting deeper than MAX_DEPTH (a deep enough document ends the validator's recursion in a 500),
 *  - members named `__proto__`, `constructor` or `prototype` (prototype pollution in whatever code
 *    later copies the object), and a member given twice (JSON.parse silently keeps the last),
 *  - a number whose value a double cannot hold (a 30-digit decimal would be stored altered).
 * Errors name the character position, never the text there (it may be patient data).
 *
 * Why by hand: the libraries at hand each do a part (secure-json-parse the prototype names only;
 * the streaming tokenizers none of depth limits, duplicates and number exactness together, and
 * several times slower than JSON.parse); this is one linear scan, and JSON.parse still builds the
 * value.
 */

export const MAX_DEPTH = 100;

export class StrictJsonError extends Error {
  constructor(
    message: string,
    /** Index in the decoded text (a character), or in the bytes for invalid UTF-8; absent for a syntax error. */
    readonly position?: number,
    unit: 'character' | 'byte' = 'character',
  ) {
    super(position === undefined ? message : `${message} (at ${unit} ${position})`);
    this.name = 'StrictJsonError';
  }
}

const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes and parses `input` (bytes or text), refusing what the module comment lists. */
export function parseStrictJson(input: Buffer | Uint8Array | string): unknown {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = decoder.decode(input);
    } catch {
      throw new StrictJsonError('not valid UTF-8', firstInvalidUtf8(input), 'byte');
    }
  }
  scan(text);
  try {
    return JSON.parse(text);
  } catch {
    // The scan found nothing wrong with what it checks; JSON.parse's message quotes the text.
    throw new StrictJsonError('not valid JSON');
  }
}

/** One pass: depth, member names, duplicates, surrogate escapes, numbers. Syntax errors are left to JSON.parse. */
function scan(text: string): void {
  // One set of member names per open object; null for an array.
  const stack: Array<Set<string> | null> = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_DEPTH) throw new StrictJsonError(`nesting deeper than ${MAX_DEPTH} levels`, i);
      stack.push(c === 0x7b ? new Set() : null);
      expectName = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = stack.length > 0 && stack[stack.length - 1] !== null;
    } else if (c === 0x22 /* " */) {
      const start = i;
      i = stringEnd(text, i);
      if (expectName) {
        const names = stack[stack.length - 1];
        const raw = text.slice(start + 1, i);
        const name = raw.includes('\\') ? (JSON.parse(text.slice(start, i + 1)) as string) : raw;
        if (FORBIDDEN_NAMES.has(name)) throw new StrictJsonError('a member name that is not allowed', start);
        if (names?.has(name)) throw new StrictJsonError('a member given twice', start);
        names?.add(name);
        expectName = false;
      }
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      while (i + 1 < text.length && isNumberChar(text.charCodeAt(i + 1))) i++;
      checkNumber(text.slice(start, i + 1), start);
    }
  }
}

/** The index of the quote closing the string opened at `open`; checks its \u escapes. */
function stringEnd(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i;
    if (c !== 0x5c /* \ */) continue;
    if (text.charCodeAt(i + 1) !== 0x75 /* u */) {
      i++;
      continue;
    }
    const unit = parseInt(text.slice(i + 2, i + 6), 16);
    if (unit >= 0xdc00 && unit <= 0xdfff) throw new StrictJsonError('half a surrogate pair', i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.slice(i + 6, i + 8) === '\\u' ? parseInt(text.slice(i + 8, i + 12), 16) : NaN;
      if (!(next >= 0xdc00 && next <= 0xdfff)) throw new StrictJsonError('half a surrogate pair', i);
      i += 6;
    }
    i += 5;
  }
  return text.length; // unterminated: JSON.parse says so
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

/**
 * A number is kept when the double JSON.parse makes of it has the same value: its significant
 * digits and exponent equal those of the double's shortest form. Trailing zeros carry no value
 * (1.50 is kept as 1.5, as every JSON library writes it). Up to 15 significant digits always fit.
 */
function checkNumber(lexeme: string, position: number): void {
  const value = Number(lexeme);
  if (!Number.isFinite(value)) throw new StrictJsonError('a number too large to keep', position);
  const mine = decimal(lexeme);
  if (mine === undefined) return; // not a number: JSON.parse decides
  // Up to 15 significant digits of a normal double's range always survive the round trip.
  if (mine.digits.length <= 15 && mine.exponent > -290 && mine.exponent < 300) return;
  const kept = decimal(String(value));
  if (!kept || kept.digits !== mine.digits || kept.exponent !== mine.exponent)
    throw new StrictJsonError('a number with more precision than can be kept', position);
}

/** Significant digits (no leading or trailing zeros) and the exponent of the first of them. */
function decimal(lexeme: string): { digits: string; exponent: number } | undefined {
  const m = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(lexeme);
  if (!m) return undefined;
  const whole = m[1] + (m[2] ?? '');
  const lead = whole.length - whole.replace(/^0+/, '').length;
  const digits = whole.slice(lead).replace(/0+$/, '');
  return { digits, exponent: m[1].length - lead + Number(m[3] ?? 0) };
}

/** Where the first byte that breaks UTF-8 is (a position for the error; the decoder does not say). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let lo = 0, hi = bytes.length; ;) {
    if (hi - lo <= 1) return lo;
    const mid = (lo + hi) >>> 1;
    try {
      // stream: a character cut in two at the end of the prefix is not an error, a bad byte is.
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid;
    }
  }
}
