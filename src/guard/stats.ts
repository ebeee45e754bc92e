/**
 * Byte statistics for the guard. The thresholds come from the distribution of uniformly random
 * bytes, not from any simulator: for n bytes drawn uniformly, Pearson's chi-square over the 256
 * byte values follows chi-square with 255 degrees of freedom (mean 255, standard deviation
 * sqrt(510) ~ 22.6) once n/256 is a few per bin. Ciphertext is indistinguishable from that; every
 * structured format (text, XML, DICOM tags, uncompressed pixels) lies orders of magnitude above it.
 */
import jStat from 'jstat';

/** Pearson's chi-square of the byte histogram against uniform. */
export function chiSquare(buf: Uint8Array): number {
  const n = buf.length;
  if (n === 0) return 0;
  const counts = new Uint32Array(256);
  for (let i = 0; i < n; i++) counts[buf[i]]++;
  const e = n / 256;
  let x = 0;
  for (let b = 0; b < 256; b++) {
    const d = counts[b] - e;
    x += d * d;
  }
  return x / e;
}

/** Shannon entropy in bits per byte. */
export function entropy(buf: Uint8Array): number {
  const n = buf.length;
  if (n === 0) return 0;
  const counts = new Uint32Array(256);
  for (let i = 0; i < n; i++) counts[buf[i]]++;
  let h = 0;
  for (let b = 0; b < 256; b++) {
    if (counts[b] === 0) continue;
    const p = counts[b] / n;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Smallest sample on which the large-sample rule decides: 2 expected counts per byte value. */
export const MIN_RANDOM_SAMPLE = 512;

/** Smallest sample on which any verdict is given: a quarter of an expected count per byte value. */
export const MIN_SMALL_SAMPLE = 64;

/**
 * The small-sample cut-off (64 to 511 bytes): the chi-square(255) quantile at 1 - 1e-12, 447.5.
 * With under two expected counts per byte value the statistic is discrete (for n = 64 it is 192 + 8
 * x the number of equal pairs) and its right tail is heavier than chi-square's, so the nominal
 * 1e-12 is not the real rate. The real false-negative rates (random bytes judged not random),
 * computed exactly from the multinomial distribution by dynamic programming over the 256 byte
 * values (scripts/guard-cutoff-rates.ts), are 2.3e-7 at n = 64, 1.0e-8 at 128, 4.8e-10 at 256 and
 * 3.5e-11 at 511; the cut-off meets the large-sample rule's (457 at n = 512) almost continuously.
 * False positives (structured bytes judged random) need fewer than 32 equal pairs in 64 bytes where
 * English prose has about 120, and chi-square in the thousands at 256 bytes: none for text, CSV,
 * XML or headers. The fixed entropy rule this replaces missed 84% of 200-byte and all but 0.01% of
 * 256-byte ciphertexts (it asked 256 bytes for 7.36 bits a byte; 256 random bytes show about 7.17,
 * since a third of the byte values never occur in so few).
 */
const SMALL_SAMPLE_CUT = jStat.chisquare.inv(1 - 1e-12, 255);

/**
 * True when the bytes are consistent with uniform randomness. The cut-off is the mean plus eight
 * standard deviations of chi-square(255) for large samples (a random block exceeds it with a
 * probability below 1e-10); for samples of 512 bytes to a few KiB the statistic's variance grows
 * by about 256*255/n, so the cut-off widens with it. Under 512 bytes, see SMALL_SAMPLE_CUT; under
 * 64 no verdict. Structured data misses it by a wide margin: English text gives chi-square in the
 * tens of thousands per 4 KiB.
 */
export function looksRandom(buf: Uint8Array): boolean {
  const n = buf.length;
  if (n < MIN_SMALL_SAMPLE) return false;
  if (n < MIN_RANDOM_SAMPLE) return chiSquare(buf) < SMALL_SAMPLE_CUT;
  const variance = 510 + (256 * 255) / n;
  return chiSquare(buf) < 255 + 8 * Math.sqrt(variance);
}

/**
 * Far from random: chi-square above 20 times the random mean. Compressed streams (deflate, JPEG
 * scans) sit near the random band and are *not* structured; plain text, XML, CSV, DICOM headers
 * and raw pixel data are. Only a block that was structured and became random counts as evidence,
 * so compressed data, which may legitimately change, never does.
 */
export function looksStructured(buf: Uint8Array): boolean {
  return buf.length >= MIN_RANDOM_SAMPLE && chiSquare(buf) > 20 * 255;
}

/** Share of bytes that are printable ASCII, tab, CR, LF or part of a valid UTF-8 sequence. */
export function textShare(buf: Uint8Array): number {
  const n = buf.length;
  if (n === 0) return 1;
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const c = buf[i];
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127)) ok++;
    else if (c >= 0xc2 && c <= 0xf4) {
      // A UTF-8 lead byte followed by the right number of continuation bytes counts as text.
      const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      let j = 1;
      while (j < len && i + j < n && (buf[i + j] & 0xc0) === 0x80) j++;
      if (j === len || i + j === n) {
        ok += j;
        i += j - 1;
      }
    }
  }
  return ok / n;
}

/** Text by the usual rule of file(1) and git: no NUL byte and almost every byte printable. */
export function isText(buf: Uint8Array): boolean {
  if (buf.length === 0) return false;
  if (buf.includes(0)) return false;
  return textShare(buf) >= 0.97;
}

/** Index of each base64 character among the 64 symbols (URL-safe '-' and '_' as '+' and '/'), -1 for others. */
const B64 = new Int8Array(256).fill(-1);
[...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].forEach((c, i) => (B64[c.charCodeAt(0)] = i));
B64['-'.charCodeAt(0)] = 62;
B64['_'.charCodeAt(0)] = 63;
const PAD = '='.charCodeAt(0);

/** 342 symbols carry 256 bytes: 5.3 expected counts per symbol, where chi-square(63) holds. */
export const MIN_BASE64_SYMBOLS = 342;

/**
 * The base64 symbol cut-off: the chi-square(63) quantile at 1 - 1e-12, 176.7. Base64 of random
 * bytes spells every 6 bits as one of 64 symbols, uniformly and independently, so Pearson's
 * chi-square of the symbol counts follows chi-square(63). Computed exactly (as for the byte
 * cut-off), the real false-negative rate is 4.7e-11 at 342 symbols and 8.7e-12 at 683. A sample
 * may end on a padded group whose last symbol takes 4 or 16 values: it moves the statistic by
 * about 2 at 342 symbols, against a standard deviation of 11.
 */
const BASE64_SYMBOL_CUT = jStat.chisquare.inv(1 - 1e-12, 63);

/**
 * File formats keep their structure at the head (signature, fixed header, first chunk or entry
 * table); in a small file compressed content can dilute it below what the whole sample's test
 * sees. A PNG's 57 bytes of signature and chunk framing, 17 of them zero, vanish in 400 bytes of
 * deflate (chi-square about 400, under the cut-off) but not in 128 (79 equal pairs are the most
 * the cut-off allows; the zeros alone make 136). Random bytes pass on 128 bytes but for 1.0e-8.
 */
const HEAD_WINDOW = 128;

/**
 * Base64 of random bytes: only the base64 alphabet (and line breaks), its symbols uniform over the
 * 64, and what it decodes to uniformly random bytes, in the whole and in its first 128 bytes.
 * This is how "low-entropy" ransomware output (about 6 bits per character) is told from ordinary
 * text, which is never pure base64 of ciphertext. The tests see different structure: base64 of
 * text or XML fails the symbol test (ASCII never sets a byte's top bit, so the symbol that begins
 * each group is one of only 32) and the byte test; base64 of an image, a document or an archive
 * fails at its head. All must pass, so the false-negative rate is at most the sum, 1.1e-8 a sample
 * (4.7e-11 + 4.8e-10 + 1.0e-8) at the 342-symbol floor and about 1e-8 on 4 KiB samples, at most
 * 3e-8 for a file of three samples. What passes that is not ciphertext is base64 of data with no
 * structure: compressed data whose header is a few bytes (gzip's ten, deflate's none), a key. Below the floor no verdict is given: a short
 * base64 string is a token or a key as often as a file.
 */
export function isBase64OfRandom(buf: Uint8Array): boolean {
  const counts = new Uint32Array(64);
  let symbols = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === 10 || c === 13 || c === PAD) continue;
    const s = B64[c];
    if (s < 0) return false;
    counts[s]++;
    symbols++;
  }
  if (symbols < MIN_BASE64_SYMBOLS) return false;
  const e = symbols / 64;
  let x = 0;
  for (let s = 0; s < 64; s++) x += (counts[s] - e) ** 2;
  if (x / e >= BASE64_SYMBOL_CUT) return false;
  // A sample may start in the middle of a group: the decoded bits are then shifted, which keeps
  // random bytes random. Node's decoder takes unpadded trailing symbols.
  const text = Buffer.from(buf)
    .toString('latin1')
    .replace(/[\r\n=]/g, '');
  const decoded = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return looksRandom(decoded) && looksRandom(decoded.subarray(0, HEAD_WINDOW));
}
