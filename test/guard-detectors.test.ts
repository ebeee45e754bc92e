/**
 * The guard's detectors, each on its pattern and on the benign counterpart: byte statistics,
 * file kinds of real-structured clinic files, a changed file against its baseline (overwrite,
 * intermittent, header-only, a few percent, base64), ransom notes against an IT memo, sizes and
 * renames. No watcher here: the fingerprints are computed from bytes.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { describe, test } from 'node:test';
import { compareToBaseline, foreignExtension, similarSize } from '../src/guard/evidence.js';
import { csv, dicom, docx, jpeg, pdf, png, Rng, txt } from '../src/guard/formats.js';
import { isStrongNote, isWeakNote, scoreNote } from '../src/guard/notes.js';
import { isBase64OfRandom, isText, looksRandom, looksStructured } from '../src/guard/stats.js';
import { fingerprintOfBytes } from './helpers/guardFingerprint.js';

const fp = fingerprintOfBytes;
/** Seeded: the same keys on every run, so that a miss is a failure that repeats. */
const keys = new Rng(2024);
const seededBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(keys.next() * 256)));
const enc = (b: Buffer) => {
  const c = crypto.createCipheriv('aes-256-ctr', seededBytes(32), seededBytes(16));
  return Buffer.concat([c.update(b), c.final()]);
};
const asBase64 = (b: Buffer) => Buffer.from(b.toString('base64').replace(/.{76}/g, '$&\n'));
const ranges = (b: Buffer, rs: Array<[number, number]>) => {
  const out = Buffer.from(b);
  for (const [o, l] of rs) enc(out.subarray(o, o + l)).copy(out, o);
  return out;
};
const rng = new Rng(99);

describe('byte statistics', () => {
  test('random bytes look random, never structured; text and pixels are structured', () => {
    let falseNegatives = 0;
    for (let i = 0; i < 200; i++) if (!looksRandom(seededBytes(4096))) falseNegatives++;
    assert.equal(falseNegatives, 0);
    assert.equal(looksStructured(seededBytes(4096)), false);
    assert.equal(looksRandom(txt(rng).subarray(0, 4096)), false);
    assert.equal(looksStructured(txt(rng, 2000).subarray(0, 4096)), true);
    assert.equal(looksStructured(dicom(rng, 256).subarray(8192, 12288)), true);
  });
  test('deflated data is near random but not structured (it may change without being evidence)', () => {
    const d = zlib.deflateSync(txt(rng, 5000));
    assert.equal(looksStructured(d.subarray(0, 4096)), false);
  });
  test('base64 of random bytes is told from base64-looking and ordinary text', () => {
    assert.equal(isBase64OfRandom(asBase64(seededBytes(3000))), true);
    assert.equal(isBase64OfRandom(Buffer.from(txt(rng, 2000).toString('base64'))), false, 'base64 of text decodes to structure');
    assert.equal(isBase64OfRandom(txt(rng)), false);
    assert.equal(isText(csv(rng)), true);
    assert.equal(isText(jpeg(rng)), false);
  });
});

describe('file kinds', () => {
  test('a real bitmap and a real Windows program are still known by their magic numbers', async () => {
    const header = (magic: string) =>
      Buffer.concat([Buffer.from(magic, 'latin1'), Buffer.from([0x36, 0x10, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0, 0x28, 0, 0, 0]), seededBytes(6000)]);
    assert.equal((await fp(header('BM'))).kind, 'bmp');
    assert.equal((await fp(header('MZ'))).kind, 'exe');
  });
  test('generated clinic files are recognised by their magic bytes, text as text', async () => {
    assert.equal((await fp(await docx(rng))).kind, 'zip');
    assert.equal((await fp(pdf(rng))).kind, 'pdf');
    assert.equal((await fp(jpeg(rng))).kind, 'jpg');
    assert.equal((await fp(dicom(rng))).kind, 'dcm');
    assert.equal((await fp(txt(rng))).kind, 'text');
    assert.equal((await fp(csv(rng))).kind, 'text');
    assert.equal((await fp(enc(pdf(rng)))).kind, 'opaque');
  });
});

describe('a changed file against its baseline', () => {
  const cases: Array<[string, () => Buffer | Promise<Buffer>]> = [
    ['docx', () => docx(rng)],
    ['pdf', () => pdf(rng)],
    ['jpeg', () => jpeg(rng)],
    ['dicom', () => dicom(rng)],
    ['txt', () => txt(rng)],
    ['csv', () => csv(rng)],
  ];
  for (const [name, make] of cases) {
    test(`${name}: overwrite, every other 16 bytes, header only, 3% and base64 are destroyed (weight 1)`, async () => {
      const orig = await make();
      const base = await fp(orig);
      const every16: Array<[number, number]> = [];
      for (let o = 0; o < orig.length; o += 32) every16.push([o, 16]);
      const few = Array.from({ length: 10 }, (_, i) => [Math.floor((i * orig.length) / 10), Math.max(16, Math.floor(orig.length * 0.003))] as [number, number]);
      const variants: Record<string, Buffer> = {
        overwrite: enc(orig),
        intermittent: ranges(orig, every16),
        header: ranges(orig, [[0, 4096]]),
        'few-percent': ranges(orig, few),
        base64: asBase64(enc(orig)),
      };
      for (const [v, data] of Object.entries(variants)) {
        const s = compareToBaseline(base, await fp(data));
        assert.ok(s && s.weight >= 1, `${name} ${v}: ${JSON.stringify(s)}`);
      }
    });
    test(`${name}: base64 of the encrypted file is destroyed under every one of 2,000 keys (300 for a file over 200 kB)`, async () => {
      // Base64 of ciphertext begins with a plain-letter magic number by chance ('BM', 'MZ', an
      // MPEG-TS 'G'): about one key in a thousand once passed for a "conversion" to a bitmap.
      const orig = await make();
      const base = await fp(orig);
      const missed: string[] = [];
      const tries = orig.length > 200_000 ? 300 : 2000; // the large DICOM costs 7 ms a try
      for (let k = 0; k < tries; k++) {
        const data = asBase64(enc(orig));
        const s = compareToBaseline(base, await fp(data));
        if (!(s && s.weight >= 1)) missed.push(data.subarray(0, 4).toString('latin1'));
      }
      assert.deepEqual(missed, []);
    });
    test(`${name}: a benign rewrite (a new version of the same kind) is no evidence`, async () => {
      const base = await fp(await make());
      assert.equal(compareToBaseline(base, await fp(await make())), undefined);
    });
  }
  test('text appended to stays text: no evidence', async () => {
    const t = txt(rng);
    assert.equal(compareToBaseline(await fp(t), await fp(Buffer.concat([t, Buffer.from('Seen again today, stable.\n')]))), undefined);
  });
  test('a DICOM whose pixel blocks turned random with its header intact (header-sparing encryption) is evidence', async () => {
    const d = dicom(rng, 256);
    const s = compareToBaseline(await fp(d), await fp(ranges(d, [[4096, d.length - 4096]])));
    assert.ok(s && s.weight >= 0.5, JSON.stringify(s));
  });
  test('a document converted to another known format under its name is no evidence', async () => {
    assert.equal(compareToBaseline(await fp(await docx(rng)), await fp(pdf(rng))), undefined);
  });
});

describe('small files and short base64', () => {
  // Own seeded streams, so these tests neither shift nor depend on the keys drawn above.
  const keyRng = new Rng(525);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(keyRng.next() * 256)));
  const aes = (b: Buffer) => {
    const c = crypto.createCipheriv('aes-256-ctr', bytes(32), bytes(16));
    return Buffer.concat([c.update(b), c.final()]);
  };
  const chacha = (b: Buffer) => {
    const c = crypto.createCipheriv('chacha20-poly1305', bytes(32), bytes(12), { authTagLength: 16 });
    return Buffer.concat([c.update(b), c.final(), c.getAuthTag()]); // ciphertext then tag, as on disk
  };
  const local = new Rng(342);
  const note = (n: number) => txt(local, 400).subarray(0, n);

  test('ciphertext of 64 to 511 bytes looks random under every one of 400 keys a size (AES-CTR and ChaCha20)', () => {
    const missed: string[] = [];
    for (const n of [64, 100, 128, 200, 256, 300, 400, 511])
      for (let k = 0; k < 400; k++) {
        if (!looksRandom(aes(note(n)))) missed.push(`aes ${n}`);
        if (!looksRandom(chacha(note(n - 16)))) missed.push(`chacha ${n}`);
      }
    assert.deepEqual(missed, []);
  });
  test('small structured samples do not look random: text, CSV, the heads of a PNG, DICOM and PDF', () => {
    for (const n of [64, 128, 256, 511]) {
      assert.equal(looksRandom(note(n)), false, `text ${n}`);
      assert.equal(looksRandom(csv(local).subarray(0, n)), false, `csv ${n}`);
      // A PNG's framing is in its first 128 bytes; past them its deflate stream dilutes it (why
      // base64 is also judged on its first 128 decoded bytes).
      if (n <= 128) assert.equal(looksRandom(png(local, 64).subarray(0, n)), false, `png ${n}`);
      assert.equal(looksRandom(dicom(local, 128).subarray(0, n)), false, `dicom ${n}`);
      assert.equal(looksRandom(pdf(local).subarray(0, n)), false, `pdf ${n}`);
    }
  });
  test('base64 of ciphertext from 256 bytes (342 symbols) up is base64 of random under every one of 300 keys a size', () => {
    const missed: string[] = [];
    for (const n of [256, 257, 300, 384, 400, 511, 524, 600, 1000, 3000])
      for (let k = 0; k < 300; k++) {
        if (!isBase64OfRandom(Buffer.from(aes(note(n)).toString('base64')))) missed.push(`aes ${n}`);
        if (!isBase64OfRandom(asBase64(chacha(note(n - 16))))) missed.push(`chacha ${n} wrapped`);
        if (!isBase64OfRandom(Buffer.from(chacha(note(n - 16)).toString('base64url')))) missed.push(`chacha ${n} url-safe`);
      }
    assert.deepEqual(missed, []);
  });
  test('a small note or PNG replaced by base64 of its ciphertext is destroyed (weight 1) under every one of 200 keys', async () => {
    for (const orig of [note(256), note(300), note(450), note(524), png(local, 20), png(local, 28)]) {
      const base = await fp(orig);
      const missed: number[] = [];
      for (let k = 0; k < 200; k++) {
        const s = compareToBaseline(base, await fp(asBase64(k % 2 ? aes(orig) : chacha(orig))));
        if (!(s && s.weight >= 1)) missed.push(k);
      }
      assert.deepEqual(missed, [], `${base.kind} of ${orig.length} bytes`);
    }
  });
  test('base64 of a small text, CSV or PNG is not base64 of random: the file stays text', async () => {
    const benign = [note(260), note(400), note(700), csv(local, 8), csv(local, 20)];
    for (let side = 6; side <= 96; side += 3) benign.push(png(local, side));
    for (const b of benign) {
      for (const encoded of [Buffer.from(b.toString('base64')), asBase64(b)]) {
        assert.equal(isBase64OfRandom(encoded), false, `${b.subarray(1, 4).toString('latin1')} of ${b.length} bytes`);
        assert.equal((await fp(encoded)).kind, 'text');
      }
    }
  });
  test('under the floor (255 bytes, 340 symbols) no verdict is claimed, even for ciphertext', () => {
    // A short base64 string is a token or a key as often as a file: below 342 symbols the symbol
    // counts cannot tell (under 5.3 expected a symbol), so it stays text.
    assert.equal(isBase64OfRandom(Buffer.from(aes(note(255)).toString('base64'))), false);
  });
});

describe('ransom notes', () => {
  const note =
    'YOUR FILES ARE ENCRYPTED. To get the decryption key pay 0.3 BTC to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh within 48 hours. Contact us via the Tor browser.';
  test('a note with a payment channel is strong', () => assert.equal(isStrongNote(scoreNote(note)), true));
  test('an onion address and a Tox id count as channels', () => {
    assert.deepEqual(scoreNote(`decrypt your files at ${'a'.repeat(56)}.onion`).channels, ['onion address']);
    assert.ok(scoreNote(`tox ${'A1'.repeat(38)} for your decryption key`).channels.includes('tox id'));
  });
  test('an IT memo about ransomware is not strong (no channel)', () => {
    const memo =
      'Reminder: ransomware encrypts your files and demands payment in bitcoin. Never pay a ransom; report anything odd to IT. Backups restore our data.';
    assert.equal(isStrongNote(scoreNote(memo)), false);
    assert.equal(isWeakNote(scoreNote(memo)), true, 'weak: counts only when it turns up in several folders');
    assert.equal(isWeakNote(scoreNote(txt(rng).toString())), false);
  });
});

describe('sizes and renames', () => {
  test('similar sizes: ciphertext with a header, base64; not a different file', () => {
    assert.equal(similarSize(100000, 100512), true);
    assert.equal(similarSize(100000, 135000), true);
    assert.equal(similarSize(100000, 40000), false);
    assert.equal(similarSize(100000, 200000), false);
  });
  test('a rename to an extension the content lacks counts; work files and matching extensions do not', async () => {
    const f = await fp(await docx(rng));
    assert.equal(foreignExtension('/s/a.docx.lockd', f, new Set(['docx', 'pdf'])), true);
    assert.equal(foreignExtension('/s/~WRD0001.tmp', f, new Set()), false);
    assert.equal(foreignExtension('/s/a.zip', f, new Set()), false);
    assert.equal(foreignExtension('/s/a.jpeg', await fp(jpeg(rng)), new Set(['jpg'])), false);
  });
});
