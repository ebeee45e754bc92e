/**
 * Byte statistics for the guard. The thresholds come from the distribution of uniformly random
 * bytes, not from any simulator: for n bytes drawn uniformly, Pearson's chi-square over the 256
 * byte values follows chi-square with 255 degrees of freedom (mean 255, standard deviation
 * sqrt(510) ~ 22.6) once n/256 is a few per bin. Ciphertext is indistinguishable from that; every
 * structured format (text, XML, DICOM tags, uncompressed pixels) lies orders of magnitude above it.
 */

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

/** Smallest sample on which "looks uniformly random" is decided: 2 expected counts per byte value. */
export const MIN_RANDOM_SAMPLE = 512;

/**
 * True when the bytes are consistent with uniform randomness. The cut-off is the mean plus eight
 * standard deviations of chi-square(255) for large samples (a random block exceeds it with a
 * probability below 1e-10); for small samples the statistic's variance grows by about
 * 256*255/n (the multinomial correction), so the cut-off widens with it. Structured data misses
 * it by a wide margin: English text gives chi-square in the tens of thousands per 4 KiB.
 */
export function looksRandom(buf: Uint8Array): boolean {
  const n = buf.length;
  if (n < MIN_RANDOM_SAMPLE) return n >= 64 && entropy(buf) > 0.92 * Math.log2(Math.min(n, 256)) && distinctBytes(buf) > 0.6 * Math.min(n, 256);
  const variance = 510 + (256 * 255) / n;
  return chiSquare(buf) < 255 + 8 * Math.sqrt(variance);
}

function distinctBytes(buf: Uint8Array): number {
  const seen = new Uint8Array(256);
  let d = 0;
  for (let i = 0; i < buf.length; i++) if (!seen[buf[i]]++) d++;
  return d;
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

const B64 = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=') B64[c.charCodeAt(0)] = 1;

/**
 * Base64 of random bytes: only the base64 alphabet (and line breaks), and what it decodes to is
 * uniformly random. This is how "low-entropy" ransomware output (about 6 bits per character) is
 * told from ordinary text, which is never pure base64 of ciphertext. The decoded sample must be
 * big enough for the chi-square test (MIN_RANDOM_SAMPLE bytes, i.e. about 700 characters).
 */
export function isBase64OfRandom(buf: Uint8Array): boolean {
  let chars = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === 10 || c === 13) continue;
    if (!B64[c]) return false;
    chars++;
  }
  if (chars < 700) return false;
  // Decode whole 4-character groups only: a sample may start in the middle of a line.
  const text = Buffer.from(buf)
    .toString('latin1')
    .replace(/[\r\n=]/g, '');
  const usable = text.length - (text.length % 4);
  const decoded = Buffer.from(text.slice(0, usable).replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return decoded.length >= MIN_RANDOM_SAMPLE && looksRandom(decoded);
}
