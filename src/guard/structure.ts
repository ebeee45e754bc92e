/**
 * The magic number is not the file (issue 32): encryption that spares a file's first bytes leaves
 * its type intact, so the guard also checks that the body still has the structure its format
 * demands, on the blocks the fingerprint samples anyway (head, middle, tail; no extra reads):
 *
 * - PDF: the tail holds `startxref` and `%%EOF` (every writer, incremental updates included);
 * - ZIP (DOCX, XLSX, ODT...): the tail holds the end-of-central-directory record, and it points
 *   at a central directory that ends where the record begins;
 * - JPEG: the segment chain from SOI walks marker by marker to the scan, and the file ends in EOI;
 * - PNG: the chunk chain in the head walks chunk by chunk, and the file ends in IEND;
 * - DICOM: the data elements after the DICM preamble parse (group, element, a known VR, a length
 *   that fits the file).
 *
 * Undefined means "cannot tell from the samples" (another format, a segment longer than the
 * sampled head): such a file is judged by the other detectors only. A file counts as damaged only
 * when its baseline was intact and it is not any more, so an unusual but valid file (a ZIP with a
 * long comment, a JPEG with bytes after EOI) is never judged on this.
 */

/** `blocks[0]` is the head (offset 0); the last block ends at `size` (see sampleOffsets). */
export function bodyIntact(kind: string, blocks: Buffer[], size: number): boolean | undefined {
  const head = blocks[0];
  const tail = blocks[blocks.length - 1];
  if (!head || head.length === 0) return undefined;
  switch (kind) {
    case 'pdf':
      return pdfIntact(tail);
    case 'zip':
      return zipIntact(tail, size);
    case 'jpg':
      return jpegIntact(head, tail);
    case 'png':
      return pngIntact(head, tail);
    case 'dcm':
      return dicomIntact(head, size);
    default:
      return undefined;
  }
}

function pdfIntact(tail: Buffer): boolean {
  const s = tail.toString('latin1', Math.max(0, tail.length - 2048));
  return s.includes('%%EOF') && s.includes('startxref');
}

function zipIntact(tail: Buffer, size: number): boolean {
  // The record is 22 bytes plus a comment; search backwards for its signature.
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail[i] !== 0x50 || tail[i + 1] !== 0x4b || tail[i + 2] !== 0x05 || tail[i + 3] !== 0x06) continue;
    const commentLength = tail.readUInt16LE(i + 20);
    if (i + 22 + commentLength !== tail.length) continue;
    const cdSize = tail.readUInt32LE(i + 12);
    const cdOffset = tail.readUInt32LE(i + 16);
    if (cdSize === 0xffffffff || cdOffset === 0xffffffff) return true; // ZIP64: the fields live elsewhere
    const recordAt = size - tail.length + i;
    return cdOffset + cdSize === recordAt;
  }
  return false;
}

function jpegIntact(head: Buffer, tail: Buffer): boolean | undefined {
  if (tail.length < 2 || tail[tail.length - 2] !== 0xff || tail[tail.length - 1] !== 0xd9) return false;
  let i = 2;
  while (i + 4 <= head.length) {
    if (head[i] !== 0xff) return false;
    const marker = head[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xda) return true; // start of scan: the chain is whole up to the image data
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker < 0xc0) return false;
    const len = head.readUInt16BE(i + 2);
    if (len < 2) return false;
    i += 2 + len;
  }
  return undefined; // a segment (an EXIF thumbnail) longer than the sampled head
}

function pngIntact(head: Buffer, tail: Buffer): boolean | undefined {
  if (tail.length < 12 || tail.toString('latin1', tail.length - 8, tail.length - 4) !== 'IEND') return false;
  let i = 8;
  while (i + 8 <= head.length) {
    const len = head.readUInt32BE(i);
    const type = head.toString('latin1', i + 4, i + 8);
    if (!/^[A-Za-z]{4}$/.test(type) || len > 0x7fffffff) return false;
    if (type === 'IEND') return true;
    i += 12 + len;
  }
  return undefined;
}

/** Value representations of DICOM PS3.5; those with a 4-byte length after two reserved bytes. */
const VR = new Set('AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '));
const LONG_VR = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);

function dicomIntact(head: Buffer, size: number): boolean | undefined {
  // The file meta group (0002) is explicit VR little endian by the standard; the data set that
  // follows is parsed the same way, which an implicit-VR file fails from its baseline on (and is
  // then never judged on this).
  let i = 132;
  let parsed = 0;
  while (i + 8 <= head.length && parsed < 16) {
    const group = head.readUInt16LE(i);
    const vr = head.toString('latin1', i + 4, i + 6);
    if (parsed === 0 && group !== 0x0002) return false;
    if (!VR.has(vr)) return false;
    let len: number;
    if (LONG_VR.has(vr)) {
      if (i + 12 > head.length) break;
      if (head.readUInt16LE(i + 6) !== 0) return false; // reserved bytes
      len = head.readUInt32LE(i + 8);
      i += 12;
    } else {
      len = head.readUInt16LE(i + 6);
      i += 8;
    }
    if (len === 0xffffffff) return true; // undefined length (a sequence): fine, stop here
    if (i + len > size) return false;
    i += len;
    parsed++;
  }
  return parsed > 0 ? true : undefined;
}
