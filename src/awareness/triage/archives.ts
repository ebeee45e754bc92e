/**
 * Reading a few file formats far enough to see what a name cannot tell: whether a 7z or RAR archive
 * is encrypted (mail filters cannot look inside, which is why malware is sent that way), whether a
 * PDF runs JavaScript or launches something when opened, whether an HTML page or SVG image runs
 * script, and whether a name carries invisible or direction-reversing characters. Only headers and
 * markers are read; nothing is decompressed or decrypted.
 */

const SEVEN_ZIP_MAGIC = Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]);
// The 7zAES coder's id. It appears in the header block (plain or, with -mhe, in the encoded header's
// own coder list) whenever any content is encrypted; ordinary archives name only LZMA, PPMd, BCJ ....
const SEVEN_ZIP_AES = Buffer.from([0x06, 0xf1, 0x07, 0x01]);

/** For a 7z archive: whether its header names the AES coder. Undefined when the bytes are not 7z. */
export function sevenZipEncrypted(buf: Buffer): boolean | undefined {
  if (buf.length < 32 || !buf.subarray(0, 6).equals(SEVEN_ZIP_MAGIC)) return undefined;
  const offset = buf.readBigUInt64LE(12);
  const size = buf.readBigUInt64LE(20);
  const start = 32n + offset;
  // A header that points outside the file (a truncated or split archive): judged on what is there.
  if (start >= BigInt(buf.length)) return buf.includes(SEVEN_ZIP_AES);
  const end = start + size > BigInt(buf.length) ? buf.length : Number(start + size);
  return buf.subarray(Number(start), end).includes(SEVEN_ZIP_AES);
}

const RAR5_MAGIC = Buffer.from([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00]);
const RAR4_MAGIC = Buffer.from([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00]);

/** A RAR 5 variable-length integer (7 bits a byte, high bit: more follows). */
function vint(buf: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 10 && at + i < buf.length; i++) {
    value += (buf[at + i] & 0x7f) * 2 ** (7 * i);
    if ((buf[at + i] & 0x80) === 0) return { value, next: at + i + 1 };
  }
  return undefined;
}

/**
 * For a RAR archive: whether its headers (RAR 5: an archive encryption header, type 4; RAR 4: the
 * main header's password flag) or a file in it (RAR 5: a file header's encryption record; RAR 4: the
 * file header's password flag) are encrypted. Undefined when the bytes are not RAR.
 */
export function rarEncrypted(buf: Buffer): boolean | undefined {
  if (buf.subarray(0, 8).equals(RAR5_MAGIC)) {
    let at = 8;
    for (let blocks = 0; blocks < 1000 && at + 6 < buf.length; blocks++) {
      const size = vint(buf, at + 4); // after the header's CRC32
      if (!size) return false;
      const headerStart = size.next;
      const type = vint(buf, headerStart);
      const flags = type && vint(buf, type.next);
      if (!type || !flags) return false;
      if (type.value === 4) return true;
      let cursor = flags.next;
      const extra = flags.value & 0x1 ? vint(buf, cursor) : undefined;
      if (extra) cursor = extra.next;
      const data = flags.value & 0x2 ? vint(buf, cursor) : undefined;
      const headerEnd = headerStart + size.value;
      if (type.value === 2 && extra && extra.value > 0) {
        // The extra area closes the header: records of (size, type, data); type 1 is file encryption.
        let r = headerEnd - extra.value;
        while (r < headerEnd) {
          const recordSize = vint(buf, r);
          const recordType = recordSize && vint(buf, recordSize.next);
          if (!recordSize || !recordType) break;
          if (recordType.value === 1) return true;
          r = recordSize.next + recordSize.value;
        }
      }
      if (type.value === 5) return false; // end of archive
      at = headerEnd + (data?.value ?? 0);
    }
    return false;
  }
  if (buf.subarray(0, 7).equals(RAR4_MAGIC)) {
    let at = 7;
    for (let blocks = 0; blocks < 1000 && at + 7 <= buf.length; blocks++) {
      const type = buf[at + 2];
      const flags = buf.readUInt16LE(at + 3);
      const size = buf.readUInt16LE(at + 5);
      if (type === 0x73 && flags & 0x0080) return true; // MHD_PASSWORD: headers encrypted
      if (type === 0x74 && flags & 0x0004) return true; // LHD_PASSWORD: this file is encrypted
      if (size < 7) return false;
      const added = flags & 0x8000 && at + 11 <= buf.length ? buf.readUInt32LE(at + 7) : 0;
      at += size + added;
    }
    return false;
  }
  return undefined;
}

/** For a PDF: whether it names JavaScript or a launch action (in an uncompressed dictionary; object streams are not inflated). */
export function pdfRunsSomething(buf: Buffer): boolean | undefined {
  if (!buf.subarray(0, 1024).toString('latin1').includes('%PDF-')) return undefined;
  // Names may hide behind #xx escapes (/J#61vaScript): decoded before matching.
  const text = buf.toString('latin1').replace(/#([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return /\/(JavaScript|JS|Launch)\b/.test(text);
}

/** For an HTML page or SVG image: whether it runs script when opened (a script element, an event handler, a javascript: URL, a refresh to elsewhere). */
export function pageRunsScript(page: string): boolean {
  return (
    /<script\b/i.test(page) ||
    /<[a-z][^>]*\son[a-z]+\s*=/i.test(page) ||
    /=\s*["']?\s*javascript\s*:/i.test(page) ||
    /<meta\b[^>]*http-equiv\s*=\s*["']?refresh[^>]*url\s*=/i.test(page)
  );
}

// Direction overrides, embeddings and isolates reorder what follows them ("invoice\u202Efdp.exe" reads
// "invoiceexe.pdf"); zero-width spaces and word joiners split a word so that filters do not match it.
const BIDI = /[\u202a-\u202e\u2066-\u2069]/;
const ZERO_WIDTH = /[\u200b\u2060\ufeff]/;
// Joiners are ordinary in Persian and inside emoji sequences: counted only between two Latin letters.
const JOINER_IN_LATIN = /[a-z][\u200c\u200d]+[a-z]/i;

export function hasHiddenCharacters(name: string): boolean {
  return BIDI.test(name) || ZERO_WIDTH.test(name) || JOINER_IN_LATIN.test(name);
}

/** The name without those characters: what a reader believes it says. */
export function withoutHiddenCharacters(name: string): string {
  return name.replace(/[\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2060\ufeff]/g, '');
}
