/**
 * The leaf bytes are RFC 8785 canonical JSON (docs/audit.md): Carewall's own encoder, written for
 * speed, must give exactly what the `canonicalize` package (a JCS implementation) gives, on the
 * RFC's own examples and on many random records, and the leaf must decode to the record.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import canonicalizeModule from 'canonicalize';
import { canonicalJson, decodeLeaf, encodeLeaf, LEAF_PREFIX, type AuditRecord } from '../src/audit/record.js';

const reference = canonicalizeModule as unknown as (v: unknown) => string | undefined;

test('RFC 8785 examples: member order by UTF-16 code units, number forms, string escapes', () => {
  // RFC 8785 section 3.2.3 (sorting) and 3.2.2.3 (numbers), as the RFC prints them.
  const sorting = {
    '\u20ac': 'Euro Sign',
    '\r': 'Carriage Return',
    '\ufb33': 'Hebrew Letter Dalet With Dagesh',
    '1': 'One',
    '\ud83d\ude00': 'Emoji: Grinning Face',
    '\u0080': 'Control',
    '\u00f6': 'Latin Small Letter O With Diaeresis',
  };
  assert.equal(
    canonicalJson(sorting),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );
  // RFC 8785's own test vector: the literal is meant to round to the nearest double.
  assert.equal(
    // eslint-disable-next-line no-loss-of-precision
    canonicalJson({ numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001, -0], literals: [null, true, false] }),
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27,0]}',
  );
  assert.equal(canonicalJson({ s: '\u2028\u0007"\\/' }), '{"s":"\u2028\\u0007\\"\\\\/"}');
  assert.throws(() => canonicalJson({ n: Number.NaN }));
  assert.throws(() => canonicalJson({ n: Infinity }));
});

test('members that are undefined are left out, as in arrays they become null', () => {
  assert.equal(canonicalJson({ b: undefined, a: [1, undefined, 2], c: { d: undefined } }), '{"a":[1,null,2],"c":{}}');
});

function randomValue(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 5 : 8));
  const str = () =>
    Array.from({ length: Math.floor(r() * 8) }, () =>
      String.fromCharCode(
        [
          32 + Math.floor(r() * 95),
          Math.floor(r() * 0x30),
          0x80 + Math.floor(r() * 0x780),
          0xd800 + Math.floor(r() * 0x800),
          0xe000 + Math.floor(r() * 0x2000),
        ][Math.floor(r() * 5)],
      ),
    ).join('');
  const key = () => {
    const k = r();
    return k < 0.1 ? String(Math.floor(r() * 20)) : k < 0.12 ? '__proto__' : k < 0.14 ? String(Math.floor(r() * 2 ** 33)) : str();
  };
  switch (pick) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return [r() * 1e6 - 5e5, Math.floor(r() * 1e9), (r() - 0.5) * 10 ** Math.floor(r() * 60 - 30), 0][Math.floor(r() * 4)];
    case 3:
    case 4:
      return str();
    case 5:
      return Array.from({ length: Math.floor(r() * 5) }, () => (r() < 0.1 ? undefined : randomValue(r, depth + 1)));
    default:
      // Keys JavaScript orders or treats apart (integer-like, "__proto__") among the random ones.
      return Object.fromEntries(
        Array.from({ length: r() < 0.03 ? 17 + Math.floor(r() * 10) : Math.floor(r() * 6) }, () => [key(), r() < 0.1 ? undefined : randomValue(r, depth + 1)]),
      );
  }
}

test('the same bytes as the canonicalize package on 20,000 random values', () => {
  let seed = 20261202;
  const r = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 20_000; i++) {
    const v = { time: new Date(1.7e12 + i).toISOString(), action: 'read', outcome: 'success', explanation: randomValue(r, 0) };
    assert.equal(canonicalJson(v), reference(v));
  }
});

test('a leaf is the version line and the canonical record, and decodes to the record', () => {
  const record: AuditRecord = {
    time: '2026-12-02T10:00:00.000Z',
    action: 'search',
    outcome: 'success',
    user: { username: 'dr-ö', roles: ['physician'] },
    patient: 'p1',
    explanation: { grounds: [{ kind: 'care-team' }] },
  };
  const leaf = encodeLeaf({ ...record, requestId: undefined });
  assert.equal(leaf.toString('utf8'), LEAF_PREFIX + reference(record));
  assert.deepEqual(decodeLeaf(leaf), record);
  assert.deepEqual(encodeLeaf(decodeLeaf(leaf)), leaf);
});
