/**
 * A file's fingerprint: its type by magic bytes and the statistics of a few sampled blocks (head,
 * middle, tail). This is the small per-file baseline the guard keeps (about 200 bytes a file, never
 * any content): enough to tell when a file's content stops being what it was, including partial
 * and intermittent encryption, which spares most of a file but never its head in practice (the
 * head is what makes a file unusable, and what every known "fast" mode encrypts first).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import { isBase64OfRandom, isText, looksRandom, looksStructured, textShare } from './stats.js';
import { bodyIntact } from './structure.js';

/** Sample length: 4 KiB gives 16 expected counts per byte value, where chi-square is reliable. */
export const BLOCK = 4096;

/**
 * What a file's content is:
 * - a known format (its family by magic bytes: `zip`, `pdf`, `jpg`, `dcm`, ...);
 * - `text`;
 * - `base64-random`: base64 of random bytes (encrypted data made to look like text);
 * - `opaque`: no known format, and the head is uniformly random (ciphertext, or headerless compressed data);
 * - `data`: no known format, not text, not random (partly overwritten, or some unknown binary);
 * - `empty` / `zero`: nothing to judge yet (a write in progress truncates first, preallocation writes zeros).
 * - `constant`: every sampled byte the same non-zero value (a wiper's fill; no program's output).
 */
export type Kind = string;
export const UNJUDGED = new Set(['empty', 'zero']);
export const FORMATLESS = new Set(['text', 'base64-random', 'opaque', 'data', 'empty', 'zero', 'constant']);

export interface BlockStat {
  offset: number;
  length: number;
  random: boolean;
  structured: boolean;
  /** Share of text bytes: text files are judged on it, not on entropy. */
  text: number;
  /** Bytes that are not text (invalid UTF-8 or control bytes) and, of them, control bytes. */
  nonText: number;
  controls: number;
}

export interface Fingerprint {
  size: number;
  mtimeMs: number;
  kind: Kind;
  blocks: BlockStat[];
  /** SHA-256 (truncated) of the sampled bytes: equal for a renamed file, so a rename is told from a rewrite. */
  sample: string;
  /** Whether the body still has its format's structure (structure.ts); undefined: cannot tell. */
  intact?: boolean;
  /**
   * Text only: whether the file ends at the end of a line. Programs end text files with a line
   * break; a cut at an arbitrary byte rarely falls on one (destruction.ts's "cut short" on text).
   */
  lineEnd?: boolean;
}

/** Formats that share a container are one family: a DOCX saved as .zip is not a change of type. */
const FAMILY: Record<string, string> = {
  docx: 'zip',
  xlsx: 'zip',
  pptx: 'zip',
  odt: 'zip',
  ods: 'zip',
  odp: 'zip',
  epub: 'zip',
  jar: 'zip',
  apk: 'zip',
  zip: 'zip',
  vsdx: 'zip',
  '3mf': 'zip',
  kmz: 'zip',
  xpi: 'zip',
  jpg: 'jpg',
  jpeg: 'jpg',
  jxl: 'jxl',
  tif: 'tif',
  tiff: 'tif',
  dcm: 'dcm',
  doc: 'cfb',
  xls: 'cfb',
  ppt: 'cfb',
  msi: 'cfb',
  cfb: 'cfb',
  msg: 'cfb',
  gz: 'gz',
  tgz: 'gz',
  '7z': '7z',
  xz: 'xz',
  bz2: 'bz2',
  zst: 'zst',
  rar: 'rar',
  tar: 'tar',
  mp4: 'mp4',
  m4a: 'mp4',
  m4v: 'mp4',
  mov: 'mov',
  heic: 'heic',
  avif: 'heic',
};
export const family = (ext: string): string => FAMILY[ext] ?? ext;

/** The family an extension promises, when the guard knows it (`text` for plain-text extensions). */
const TEXT_EXT = new Set([
  'txt',
  'csv',
  'tsv',
  'md',
  'json',
  'xml',
  'html',
  'htm',
  'log',
  'ini',
  'cfg',
  'conf',
  'yml',
  'yaml',
  'js',
  'mjs',
  'cjs',
  'ts',
  'css',
  'hl7',
  'rtf',
  'svg',
  'sh',
  'py',
]);
export function familyOfExtension(name: string): string | undefined {
  const ext = path.extname(name).slice(1).toLowerCase();
  if (!ext) return undefined;
  if (TEXT_EXT.has(ext)) return 'text';
  if (FAMILY[ext]) return FAMILY[ext];
  if (['pdf', 'png', 'gif', 'bmp', 'webp', 'mp3', 'wav', 'sqlite', 'exe', 'dll', 'ico', 'psd', 'flac', 'ogg', 'avi', 'mkv', 'webm'].includes(ext)) return ext;
  return undefined;
}

/**
 * Extensions that any program uses for work files (safe-saves, downloads, backups): renaming to
 * them is normal and is never counted as a rename to a new extension.
 */
export const WORK_EXTENSIONS = new Set([
  'tmp',
  'temp',
  'bak',
  'old',
  'orig',
  'swp',
  'swx',
  'part',
  'partial',
  'crdownload',
  'download',
  'lock',
  'wbk',
  'asd',
  'sav',
  'new',
  '~',
]);

async function magic(head: Buffer): Promise<string | undefined> {
  // DICOM Part 10: a 128-byte preamble then "DICM" (file-type knows it too; this keeps the guard
  // independent of its version for the format clinics care most about).
  if (head.length >= 132 && head.toString('latin1', 128, 132) === 'DICM') return 'dcm';
  // A ZIP local file header: OOXML, ODF, EPUB and the other ZIP-based formats, one family. file-type
  // would inflate [Content_Types].xml to tell a DOCX from an XLSX, a round trip through the thread
  // pool during which a burst's other events are judged first and the alarm waits.
  if (head.length >= 30 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
  try {
    const t = await fileTypeFromBuffer(head);
    return t ? family(t.ext) : undefined;
  } catch {
    return undefined; // a head that makes the parser throw is no known format
  }
}

/** Every sampled block is base64 whose decoding looks uniformly random (short tails aside). */
function isBase64OfRandomFile(head: Buffer, blocks: Buffer[]): boolean {
  return isBase64OfRandom(head) && blocks.every((b) => isBase64OfRandom(b) || b.length < 1024);
}

export function classifyFormatless(head: Buffer, blocks: Buffer[]): Kind {
  if (head.length === 0) return 'empty';
  if (head.every((b) => b === 0)) return 'zero';
  if (isBase64OfRandomFile(head, blocks)) return 'base64-random';
  if (isText(head) && blocks.every((b) => textShare(b) >= 0.95 && !b.includes(0))) return 'text';
  // The head decides: partial encryption always leaves a random head somewhere in the first block.
  const sampleHead = head.subarray(0, BLOCK);
  if (looksRandom(sampleHead)) return 'opaque';
  return 'data';
}

/** Offsets of the sampled blocks: head, middle and tail (fewer for small files). */
export function sampleOffsets(size: number): number[] {
  if (size <= BLOCK) return [0];
  if (size <= 3 * BLOCK) return [0, size - BLOCK];
  return [0, Math.floor((size - BLOCK) / 2 / 512) * 512, size - BLOCK];
}

/**
 * Reads and fingerprints a file; undefined when it is not a regular file (or vanished meanwhile).
 * The reads are synchronous on purpose: 12 KiB from the page cache take microseconds, while the
 * asynchronous path queues every read of every pending event on libuv's four threads, so that
 * under a burst of events each file's judgement waits for all the others' reads, and the alarm
 * waits with them. Judged one after the other, the second destroyed file raises it at once.
 */
export async function fingerprint(file: string): Promise<Fingerprint | undefined> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  let bufs: Buffer[];
  let offsets: number[];
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
    if (!st.isFile()) return undefined;
    offsets = sampleOffsets(st.size);
    bufs = offsets.map((off) => {
      const b = Buffer.allocUnsafe(Math.min(BLOCK, st.size - off));
      return b.subarray(0, fs.readSync(fd, b, 0, b.length, off));
    });
  } catch {
    return undefined;
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
  }
  return fingerprintOf(bufs, offsets, st.size, st.mtimeMs);
}

export async function fingerprintOf(bufs: Buffer[], offsets: number[], size: number, mtimeMs: number): Promise<Fingerprint> {
  const head = bufs[0] ?? Buffer.alloc(0);
  // Base64 comes first: some magic numbers are plain letters ('BM' a bitmap, 'MZ' a Windows
  // program, 'G' every 188 bytes an MPEG transport stream), and base64 of ciphertext begins with
  // them by chance (about one file in a thousand). No file of those formats is nothing but base64
  // of random bytes, so such a file is what it looks like, not a "conversion" to a bitmap.
  // One byte repeated throughout is checked first too: a fill matches no format, whatever its byte.
  const fill = head.length > 0 && head[0] !== 0 && bufs.every((b) => b.every((x) => x === head[0]));
  const known = head.length > 0 && !fill && !isBase64OfRandomFile(head, bufs.slice(1)) ? await magic(head) : undefined;
  const kind = fill ? 'constant' : (known ?? classifyFormatless(head, bufs.slice(1)));
  const h = crypto.createHash('sha256');
  for (const b of bufs) h.update(b);
  return {
    size,
    mtimeMs,
    kind,
    blocks: bufs.map((b, i) => {
      const text = textShare(b);
      return {
        offset: offsets[i],
        length: b.length,
        random: looksRandom(b),
        structured: looksStructured(b),
        text,
        nonText: Math.round((1 - text) * b.length),
        controls: controlBytes(b),
      };
    }),
    sample: h.digest('base64url').slice(0, 22),
    intact: known ? bodyIntact(kind, bufs, size) : undefined,
    lineEnd: kind === 'text' ? bufs[bufs.length - 1][bufs[bufs.length - 1].length - 1] === 0x0a : undefined,
  };
}

/** C0 control bytes other than tab, CR and LF, and DEL: text in any 8-bit or UTF-8 encoding has none. */
function controlBytes(b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127) n++;
  }
  return n;
}

export const isKnownFormat = (kind: Kind) => !FORMATLESS.has(kind);
