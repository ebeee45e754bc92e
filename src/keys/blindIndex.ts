/**
 * Blind indexes: search columns hold keyed HMACs of normalised values instead of the values, so a
 * copy of the database reveals no names, identifiers or birth dates, yet equality and name-prefix
 * search still run as plain indexed SQL. The HMAC keys are derived (HKDF) from the 'index' data key,
 * which is wrapped by the master key like every other data key.
 */
import crypto from 'node:crypto';

const DIGEST_BYTES = 16; // 128 bits: collisions are negligible at any clinic's size, rows stay small
export const MIN_PREFIX = 2;
export const MAX_PREFIX = 32;

export class BlindIndex {
  private readonly tokenKey: Buffer;
  private readonly prefixKey: Buffer;

  constructor(indexKey: Buffer) {
    this.tokenKey = Buffer.from(crypto.hkdfSync('sha256', indexKey, 'carewall-blind-index', 'token', 32));
    this.prefixKey = Buffer.from(crypto.hkdfSync('sha256', indexKey, 'carewall-blind-index', 'prefix', 32));
  }

  /** Exact match of a value under a search parameter, e.g. ('identifier', 'http://mrn|12345'). */
  token(param: string, value: string): Buffer {
    return mac(this.tokenKey, `${param}\u0000${value}`);
  }

  /** Every prefix (MIN_PREFIX..MAX_PREFIX characters) of every word in `text`, normalised. */
  prefixesOf(param: string, text: string): Buffer[] {
    const out: Buffer[] = [];
    for (const word of words(text)) {
      for (let n = MIN_PREFIX; n <= Math.min(word.length, MAX_PREFIX); n++) out.push(mac(this.prefixKey, `${param}\u0000${word.slice(0, n)}`));
    }
    return out;
  }

  /** The digest to look up for one query word, or undefined when the word is too short to search by. */
  prefixQuery(param: string, word: string): Buffer | undefined {
    const w = normaliseWord(word);
    if (w.length < MIN_PREFIX) return undefined;
    return mac(this.prefixKey, `${param}\u0000${w.slice(0, MAX_PREFIX)}`);
  }
}

/** FHIR string search ignores case and accents: "Müller" is found by "mul". */
export function words(text: string): string[] {
  return text
    .split(/[\s,.\-'’]+/u)
    .map(normaliseWord)
    .filter((w) => w.length > 0);
}

function normaliseWord(word: string): string {
  return word
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

function mac(key: Buffer, text: string): Buffer {
  return crypto.createHmac('sha256', key).update(text, 'utf8').digest().subarray(0, DIGEST_BYTES);
}
