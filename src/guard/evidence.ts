/**
 * The detectors: what one change to one file says, given its baseline. Each returns a signal with
 * a weight; the guard adds the weights of distinct files in a time window and raises an alarm at
 * 2. The weights follow how often benign software produces the pattern:
 *
 * - 1 (destroyed): a file of a known format (magic bytes) stops being any known format, or keeps
 *   its header while the structure behind it (structure.ts) no longer parses; a text
 *   file turns binary; a file is replaced by base64 of random bytes; an original disappears next to
 *   a similar-sized unreadable file. No ordinary program rewrites a PDF, a DICOM image or a letter
 *   under its own name into bytes that no format claims: editors write a valid file of the same (or
 *   another known) format, and the guard never judges a file mid-write (empty or zero-filled).
 *   Two such files raise the alarm, so one corrupted file (a crashed program) does not.
 * - 0.5: a sampled block that was structured (far from random) became random while the format
 *   survived: header-sparing partial encryption. Re-encoding an image in place can do the same,
 *   so it takes four files.
 * - 0.25: a new unreadable file with no original beside it; a rename to an extension the content
 *   does not have and the share has never seen. Each is common enough alone (an encrypted
 *   container, a user's odd rename); eight in ten minutes are not.
 */
import path from 'node:path';
import { familyOfExtension, isKnownFormat, WORK_EXTENSIONS, type Fingerprint } from './fingerprint.js';

export interface Signal {
  weight: number;
  signal: string;
}

export const DESTROYED = 1;
export const BLOCK_TURNED_RANDOM = 0.5;
export const WEAK = 0.25;

/** A changed file against its own baseline (same path, or a file that reappeared under its old name). */
export function compareToBaseline(old: Fingerprint, now: Fingerprint): Signal | undefined {
  if (isKnownFormat(old.kind)) {
    if (isKnownFormat(now.kind)) return brokenBody(old, now) ?? sameFormatBlocks(old, now);
    if (now.kind === 'text') return undefined; // a document replaced by plain text is readable; the note detector looks at it
    return { weight: DESTROYED, signal: `format ${old.kind} lost (now ${now.kind})` };
  }
  if (old.kind === 'text') {
    if (now.kind === 'opaque' || now.kind === 'base64-random' || now.kind === 'data') return { weight: DESTROYED, signal: `text turned ${now.kind}` };
    if (now.kind === 'text') return binaryInText(old, now) ?? sameFormatBlocks(old, now);
    return undefined;
  }
  // A binary the guard could not read before (unknown format) gives no baseline to judge against,
  // except that base64 of random bytes replacing it is never an edit.
  if ((old.kind === 'data' || old.kind === 'opaque') && now.kind === 'base64-random')
    return { weight: DESTROYED, signal: `binary replaced by base64 of random bytes` };
  return undefined;
}

/**
 * A few encrypted bytes inside text that otherwise stays text (partial encryption of a few
 * percent): a sampled block that had neither control bytes nor invalid UTF-8 now has a run's worth
 * of non-text bytes, control bytes among them. Random bytes are 12% control bytes and 60% non-text;
 * text re-encoded (UTF-8 to Latin-1) gains invalid UTF-8 but never control bytes, and a log that
 * gains a colour code gains one non-text byte per code, not eight in one block of clean text.
 */
function binaryInText(old: Fingerprint, now: Fingerprint): Signal | undefined {
  for (let i = 0; i < Math.min(old.blocks.length, now.blocks.length); i++) {
    const o = old.blocks[i];
    const n = now.blocks[i];
    if (o.nonText === 0 && o.controls === 0 && n.controls >= 1 && n.nonText >= 8) return { weight: DESTROYED, signal: 'binary bytes inside text' };
  }
  return undefined;
}

/**
 * The header survived, the body's structure did not (structure.ts): header-keeping encryption.
 * Judged only at the size the file had (encryption keeps it): a file of another size whose tail
 * is not yet written is a rewrite in progress, and destruction.ts judges files cut short.
 */
function brokenBody(old: Fingerprint, now: Fingerprint): Signal | undefined {
  if (old.intact !== true || now.intact !== false || old.kind !== now.kind) return undefined;
  if (Math.abs(now.size - old.size) > 0.02 * old.size + 64) return undefined;
  return { weight: DESTROYED, signal: `${now.kind} header intact but its structure broken` };
}

function sameFormatBlocks(old: Fingerprint, now: Fingerprint): Signal | undefined {
  // Only meaningful when the blocks sample the same parts of the file: encryption keeps the size.
  if (Math.abs(now.size - old.size) > 0.02 * old.size + 64) return undefined;
  let turned = 0;
  for (let i = 0; i < Math.min(old.blocks.length, now.blocks.length); i++) if (old.blocks[i].structured && now.blocks[i].random) turned++;
  if (turned === 0) return undefined;
  // Text with a random block is no longer text, so it would not be here; a known format with a
  // random block where it had structure is header-sparing encryption, or a re-encode.
  return { weight: turned >= 2 ? DESTROYED : BLOCK_TURNED_RANDOM, signal: `${turned} sampled block${turned > 1 ? 's' : ''} of ${now.kind} turned random` };
}

/** Unreadable: what ciphertext looks like when no format claims it. */
export const isUnreadable = (fp: Fingerprint) => fp.kind === 'opaque' || fp.kind === 'base64-random';

/**
 * An unreadable copy is "similar-sized" to an original when it is the original's size plus a
 * header or padding (up to 64 KiB and 2%), a little shorter (at most 2%), or its base64 (4/3, with
 * line breaks up to 1.40).
 */
export function similarSize(original: number, copy: number): boolean {
  if (copy >= original * 0.98 - 64 && copy <= original * 1.02 + 65536) return true;
  const r = copy / Math.max(1, original);
  return r >= 1.3 && r <= 1.4;
}

/** A rename whose new extension claims a format the content is not, and is no work file's. */
export function foreignExtension(newName: string, fp: Fingerprint, seenExtensions: Set<string>): boolean {
  const ext = path.extname(newName).slice(1).toLowerCase();
  if (!ext || WORK_EXTENSIONS.has(ext) || seenExtensions.has(ext)) return false;
  const claimed = familyOfExtension(newName);
  if (claimed && (claimed === fp.kind || (claimed === 'text' && fp.kind === 'text'))) return false;
  return true;
}
