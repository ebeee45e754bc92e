/**
 * Attachments that run code or hide what they are. Names are judged by extension; a few kinds are
 * judged by their bytes because the name proves nothing: a zip's encryption flag and the names it
 * holds (from its local headers, which are never compressed), a VBA project inside an Office file,
 * and a form inside an HTML page.
 */
import { createHash } from 'node:crypto';
import { hasHiddenCharacters, pageRunsScript, pdfRunsSomething, rarEncrypted, sevenZipEncrypted, withoutHiddenCharacters } from './archives.js';
import { reason, type ReasonCode } from './reasons.js';
import type { AttachmentSummary, Reason } from './types.js';

export interface AttachmentInput {
  filename?: string;
  contentType: string;
  content: Buffer;
}

const EXECUTABLE = new Set([
  'exe',
  'scr',
  'com',
  'pif',
  'cpl',
  'msi',
  'msp',
  'msc',
  'dll',
  'js',
  'jse',
  'vbs',
  'vbe',
  'wsf',
  'wsh',
  'ws',
  'bat',
  'cmd',
  'ps1',
  'psm1',
  'hta',
  'jar',
  'lnk',
  'reg',
  'iso',
  'img',
  'vhd',
  'vhdx',
  'appx',
  'appxbundle',
  'msix',
  'application',
  'gadget',
  'scf',
  'url',
  'chm',
  'sh',
  'apk',
  'app',
  'dmg',
  'pkg',
  'xll',
  'library-ms',
  'settingcontent-ms',
  'one',
]);
const MACRO = new Set(['docm', 'dotm', 'xlsm', 'xltm', 'xlam', 'pptm', 'potm', 'ppam', 'ppsm', 'sldm']);
const ARCHIVE = new Set(['zip', 'rar', '7z', 'gz', 'tgz', 'tar', 'cab', 'ace', 'arj', 'lzh', 'z', 'xz', 'bz2']);
const HTML = new Set(['htm', 'html', 'shtml', 'xhtml', 'mht', 'mhtml', 'svg']);
/** Extensions a document is disguised as in front of the real one (invoice.pdf.exe). */
const DOCUMENT_LOOK = new Set([
  'pdf',
  'doc',
  'docx',
  'xls',
  'xlsx',
  'txt',
  'jpg',
  'jpeg',
  'png',
  'gif',
  'rtf',
  'csv',
  'ppt',
  'pptx',
  'zip',
  'html',
  'htm',
  'mp3',
  'mp4',
]);

function extensions(name: string): string[] {
  // Trailing dots and spaces are dropped by Windows when the file is saved; so are they here.
  return name
    .toLowerCase()
    .replace(/[.\s]+$/, '')
    .split('.')
    .slice(1)
    .map((e) => e.trim());
}

/** Names of the files in a zip, read from its local file headers; and whether any is encrypted. */
export function zipEntries(buf: Buffer): { names: string[]; encrypted: boolean } | undefined {
  if (buf.length < 30 || buf.readUInt32LE(0) !== 0x04034b50) return undefined;
  const names: string[] = [];
  let encrypted = false;
  let at = 0;
  while (at + 30 <= buf.length && buf.readUInt32LE(at) === 0x04034b50 && names.length < 10_000) {
    const flags = buf.readUInt16LE(at + 6);
    const compressedSize = buf.readUInt32LE(at + 18);
    const nameLength = buf.readUInt16LE(at + 26);
    const extraLength = buf.readUInt16LE(at + 28);
    if (flags & 0x1) encrypted = true;
    names.push(buf.subarray(at + 30, at + 30 + nameLength).toString('utf8'));
    // With a data descriptor (flag bit 3) the size is not in the local header: stop walking, but the
    // first entry's flag and name are already known, which is what matters here.
    if (flags & 0x8) break;
    at += 30 + nameLength + extraLength + compressedSize;
  }
  return { names, encrypted };
}

const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
// The VBA project's storage name in an OLE directory (UTF-16LE), and its file name in an OOXML zip.
const VBA_OLE = Buffer.from('_VBA_PROJECT', 'utf16le');
const VBA_OOXML = Buffer.from('vbaProject.bin');

function hasMacros(ext: string, content: Buffer): boolean {
  if (MACRO.has(ext)) return true;
  if (content.subarray(0, 8).equals(OLE_MAGIC)) return content.includes(VBA_OLE);
  if (content.readUInt32LE(0) === 0x04034b50) return content.includes(VBA_OOXML);
  return false;
}

/** A file name's verdicts: a program, or a program (or web page) dressed as a document. */
function judgeName(name: string, found: Set<ReasonCode>): void {
  if (hasHiddenCharacters(name)) found.add('hidden-characters');
  const exts = extensions(withoutHiddenCharacters(name));
  const last = exts[exts.length - 1] ?? '';
  if (EXECUTABLE.has(last)) found.add('attachment-executable');
  if (exts.length >= 2 && DOCUMENT_LOOK.has(exts[exts.length - 2]) && (EXECUTABLE.has(last) || HTML.has(last))) found.add('attachment-double-extension');
}

export function checkAttachments(attachments: AttachmentInput[], bodyText: string): { reasons: Reason[]; summaries: AttachmentSummary[] } {
  const found = new Set<ReasonCode>();
  const summaries: AttachmentSummary[] = [];
  let archives = 0;
  for (const a of attachments) {
    const filename = a.filename ?? '';
    summaries.push({ filename, contentType: a.contentType, size: a.content.length, sha256: createHash('sha256').update(a.content).digest('hex') });
    const exts = extensions(withoutHiddenCharacters(filename));
    const last = exts[exts.length - 1] ?? '';
    judgeName(filename, found);
    if (a.content.length >= 8 ? hasMacros(last, a.content) : MACRO.has(last)) found.add('attachment-macro');
    const zip = zipEntries(a.content);
    // 7z and RAR by their bytes, whatever the name says.
    const other = sevenZipEncrypted(a.content) ?? rarEncrypted(a.content);
    if (ARCHIVE.has(last) || zip || other !== undefined) {
      archives++;
      if (zip?.encrypted || other) found.add('attachment-encrypted-archive');
      for (const name of zip?.names ?? []) judgeName(name.split('/').pop() ?? '', found);
    }
    if (HTML.has(last) || /^text\/html\b|^image\/svg\+xml\b/i.test(a.contentType)) {
      found.add('attachment-html');
      const page = a.content.toString('utf8');
      if (/<form\b/i.test(page) || /<input\b[^>]*type\s*=\s*["']?password/i.test(page)) found.add('attachment-html-form');
      if (pageRunsScript(page)) found.add('attachment-script');
    }
    if (pdfRunsSomething(a.content)) found.add('attachment-pdf-script');
  }
  // "The password is 1234", "Passwort: …", next to an archive: the way encrypted malware is sent past filters.
  if (archives > 0 && /\b(pass(word|wort|code)?|pwd|kennwort|mot de passe)\b\s*(is|ist|est|:|=|-)/i.test(bodyText)) found.add('archive-password-in-body');
  return { reasons: [...found].map(reason), summaries };
}
