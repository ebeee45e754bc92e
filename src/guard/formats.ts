/**
 * Synthetic clinic files with the structure of the real formats (valid magic bytes, containers,
 * compressed and uncompressed parts where the real ones have them): the test share, the decoys and
 * the benign workloads are made of these. Every name and value in them is invented.
 */
import zlib from 'node:zlib';
import yazl from 'yazl';

import { Rng } from '../util/index.js';

/** The seeded generator every synthetic file is drawn with (src/util/random.ts). */
export { Rng };

const WORDS = (
  'patient reports mild pain since last visit blood pressure stable heart rate normal follow up in two weeks ' +
  'medication adjusted dose tolerated well no allergies known referral to cardiology imaging shows no acute findings ' +
  'laboratory values within range glucose elevated advise diet counselling wound healing well dressing changed ' +
  'discharge summary admitted for observation vital signs monitored overnight plan continue current therapy'
).split(' ');

export function prose(rng: Rng, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    let w = rng.pick(WORDS);
    if (i === 0 || out[out.length - 1].endsWith('.')) w = w[0].toUpperCase() + w.slice(1);
    out.push(rng.next() < 0.08 ? w + '.' : w);
  }
  return out.join(' ') + '.';
}

export function txt(rng: Rng, words = rng.int(150, 2500)): Buffer {
  const lines: string[] = [];
  let left = words;
  while (left > 0) {
    const n = Math.min(left, rng.int(8, 40));
    lines.push(prose(rng, n));
    left -= n;
  }
  return Buffer.from(lines.join('\n') + '\n');
}

export function csv(rng: Rng, rows = rng.int(30, 900)): Buffer {
  const tests = ['HbA1c', 'Glucose', 'Creatinine', 'Potassium', 'Sodium', 'CRP', 'Hemoglobin', 'TSH'];
  let s = 'sample_id,date,test,value,unit,flag\n';
  for (let i = 0; i < rows; i++) {
    const d = `2025-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`;
    s += `S${100000 + rng.int(0, 899999)},${d},${rng.pick(tests)},${(rng.next() * 200).toFixed(1)},mmol/L,${rng.next() < 0.1 ? 'H' : ''}\n`;
  }
  return Buffer.from(s);
}

function zipOf(entries: Array<[string, Buffer]>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const z = new yazl.ZipFile();
    const when = new Date(2025, 2, 3, 9, 0, 0);
    for (const [name, data] of entries) z.addBuffer(data, name, { mtime: when });
    const chunks: Buffer[] = [];
    z.outputStream
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
    z.end();
  });
}

export { zipOf };

/** An Office Open XML document: [Content_Types].xml, relationships and word/document.xml, deflated. */
export function docx(rng: Rng, paragraphs = rng.int(5, 120)): Promise<Buffer> {
  const body = Array.from({ length: paragraphs }, () => `<w:p><w:r><w:t>${prose(rng, rng.int(10, 60))}</w:t></w:r></w:p>`).join('');
  return zipOf([
    [
      '[Content_Types].xml',
      Buffer.from(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
      ),
    ],
    [
      '_rels/.rels',
      Buffer.from(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
      ),
    ],
    [
      'word/document.xml',
      Buffer.from(
        `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
      ),
    ],
    [
      'docProps/core.xml',
      Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"/>',
      ),
    ],
  ]);
}

/** A PDF 1.7 with a deflated content stream, an embedded (deflated, noisy) image and a cross-reference table. */
export function pdf(rng: Rng, pages = rng.int(1, 6)): Buffer {
  const objs: Buffer[] = [];
  const kids: string[] = [];
  const add = (s: string | Buffer) => {
    objs.push(Buffer.isBuffer(s) ? s : Buffer.from(s));
    return objs.length;
  };
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(''); // pages, filled in below
  for (let p = 0; p < pages; p++) {
    const text = zlib.deflateSync(Buffer.from(`BT /F1 11 Tf 72 720 Td (${prose(rng, rng.int(80, 400)).replace(/[()\\]/g, '')}) Tj ET`));
    const c = add(Buffer.concat([Buffer.from(`<< /Length ${text.length} /Filter /FlateDecode >>\nstream\n`), text, Buffer.from('\nendstream')]));
    const img = zlib.deflateSync(noiseImage(rng, 96, 96));
    const im = add(
      Buffer.concat([
        Buffer.from(
          `<< /Type /XObject /Subtype /Image /Width 96 /Height 96 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length ${img.length} /Filter /FlateDecode >>\nstream\n`,
        ),
        img,
        Buffer.from('\nendstream'),
      ]),
    );
    kids.push(`${add(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${c} 0 R /Resources << /XObject << /Im1 ${im} 0 R >> >> >>`)} 0 R`);
  }
  objs[1] = Buffer.from(`<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages} >>`);
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  const offsets: number[] = [];
  let at = parts[0].length;
  objs.forEach((o, i) => {
    offsets.push(at);
    const b = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), o, Buffer.from('\nendobj\n')]);
    parts.push(b);
    at += b.length;
  });
  const xref = `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${at}\n%%EOF\n`;
  parts.push(Buffer.from(xref));
  return Buffer.concat(parts);
}

/**
 * A PNG: signature, IHDR, one IDAT (the zlib-deflated, filter-0 scanlines of a grayscale image with
 * sensor noise) and IEND, each chunk with its CRC. Small ones are icons, signatures and stamps:
 * what a clinic stores base64-encoded inside exports.
 */
export function png(rng: Rng, side = rng.int(8, 64)): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (grayscale), deflate, filter method 0, no interlace
  const pixels = noiseImage(rng, side, side);
  const scanlines = Buffer.alloc(side * (side + 1));
  for (let y = 0; y < side; y++) pixels.copy(scanlines, y * (side + 1) + 1, y * side, (y + 1) * side);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(scanlines, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A smooth image with sensor noise: what scans and photos look like before compression. */
function noiseImage(rng: Rng, w: number, h: number): Buffer {
  const b = Buffer.alloc(w * h);
  const fx = rng.next() * 0.2;
  const fy = rng.next() * 0.2;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) b[y * w + x] = Math.max(0, Math.min(255, 128 + 60 * Math.sin(x * fx) * Math.cos(y * fy) + (rng.next() - 0.5) * 24));
  return b;
}

/**
 * JFIF framing (SOI, APP0, DQT, SOF0, DHT, SOS ... EOI) around an entropy-coded segment. The segment
 * is deflated image data with JPEG byte stuffing (0xFF followed by 0x00), which has the statistics
 * of a real Huffman-coded scan: close to random, as every JPEG body is.
 */
export function jpeg(rng: Rng, side = rng.int(200, 520)): Buffer {
  const seg = (marker: number, data: Buffer) => Buffer.concat([Buffer.from([0xff, marker, (data.length + 2) >> 8, (data.length + 2) & 0xff]), data]);
  const app0 = seg(0xe0, Buffer.from([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 72, 0, 72, 0, 0]));
  const dqt = seg(0xdb, Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: 64 }, (_, i) => 2 + Math.floor(i / 3)))]));
  const sof = seg(0xc0, Buffer.from([8, side >> 8, side & 0xff, side >> 8, side & 0xff, 1, 1, 0x11, 0]));
  const dht = seg(
    0xc4,
    Buffer.concat([Buffer.from([0x00, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])]),
  );
  const sos = seg(0xda, Buffer.from([1, 1, 0, 0, 63, 0]));
  const raw = zlib.deflateSync(noiseImage(rng, side, side), { level: 6 });
  const scan: number[] = [];
  for (const b of raw) {
    scan.push(b);
    if (b === 0xff) scan.push(0);
  }
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, dqt, sof, dht, sos, Buffer.from(scan), Buffer.from([0xff, 0xd9])]);
}

/**
 * DICOM Part 10: 128-byte preamble, "DICM", the group 0002 file meta information (explicit VR
 * little endian), a few attributes and uncompressed 16-bit pixel data (a CT-like slice).
 */
export function dicom(rng: Rng, side = rng.pick([128, 256, 256, 512])): Buffer {
  const el = (group: number, element: number, vr: string, value: Buffer) => {
    let v = value;
    if (v.length % 2) v = Buffer.concat([v, Buffer.from(vr === 'UI' || vr === 'OB' ? [0] : [0x20])]);
    const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
    const h = Buffer.alloc(long ? 12 : 8);
    h.writeUInt16LE(group, 0);
    h.writeUInt16LE(element, 2);
    h.write(vr, 4, 'latin1');
    if (long) h.writeUInt32LE(v.length, 8);
    else h.writeUInt16LE(v.length, 6);
    return Buffer.concat([h, v]);
  };
  const s = (x: string) => Buffer.from(x, 'latin1');
  const u16 = (n: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(n);
    return b;
  };
  const uid = `1.2.826.0.1.3680043.10.${rng.int(1, 99999)}.${rng.int(1, 99999)}.${rng.int(1, 999999)}`;
  const meta = Buffer.concat([
    el(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    el(0x0002, 0x0002, 'UI', s('1.2.840.10008.5.1.4.1.1.2')),
    el(0x0002, 0x0003, 'UI', s(uid)),
    el(0x0002, 0x0010, 'UI', s('1.2.840.10008.1.2.1')),
    el(0x0002, 0x0012, 'UI', s('1.2.826.0.1.3680043.10.1')),
  ]);
  const group = Buffer.alloc(4);
  group.writeUInt32LE(meta.length);
  const pixels = Buffer.alloc(side * side * 2);
  const cx = side / 2;
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const r = Math.hypot(x - cx, y - cx);
      const v = r < side * 0.45 ? 1000 + 40 * Math.sin(x / 7) * Math.cos(y / 9) + (rng.next() - 0.5) * 30 : 0;
      pixels.writeUInt16LE(Math.max(0, Math.round(v)), (y * side + x) * 2);
    }
  const data = Buffer.concat([
    el(0x0008, 0x0016, 'UI', s('1.2.840.10008.5.1.4.1.1.2')),
    el(0x0008, 0x0018, 'UI', s(uid)),
    el(0x0008, 0x0060, 'CS', s('CT')),
    el(0x0010, 0x0010, 'PN', s(`SYNTHETIC^PATIENT${rng.int(1, 9999)}`)),
    el(0x0010, 0x0020, 'LO', s(`SYN${rng.int(100000, 999999)}`)),
    el(0x0028, 0x0010, 'US', u16(side)),
    el(0x0028, 0x0011, 'US', u16(side)),
    el(0x0028, 0x0100, 'US', u16(16)),
    el(0x7fe0, 0x0010, 'OW', pixels),
  ]);
  return Buffer.concat([Buffer.alloc(128), s('DICM'), el(0x0002, 0x0000, 'UL', group), meta, data]);
}
