/** The strict JSON reader (src/util/strictJson.ts): what it keeps, what it refuses, and where it says the problem is. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_DEPTH, parseStrictJson, StrictJsonError } from '../src/util/strictJson.js';

const refused = (text: string | Buffer, pattern: RegExp) =>
  assert.throws(
    () => parseStrictJson(text),
    (e: unknown) => e instanceof StrictJsonError && pattern.test(e.message),
    String(text),
  );

test('numbers are kept when a double holds their value, refused when it would alter them', () => {
  for (const [text, value] of [
    ['1.5', 1.5],
    ['1.50', 1.5],
    ['1E2', 100],
    ['0.001', 0.001],
    ['9007199254740992', 2 ** 53],
    ['1.7976931348623157e308', Number.MAX_VALUE],
    ['5e-324', 5e-324],
    ['1.23456789e-310', 1.23456789e-310],
    ['-0.0', -0],
  ] as const) {
    assert.equal(parseStrictJson(`{"v":${text}}`) && (parseStrictJson(`{"v":${text}}`) as { v: number }).v, value, text);
  }
  for (const text of ['123456789012345678901234567890', '9007199254740993', '0.123456789012345678901234567890', '1e400', '1e-400', '1.234567890123456789e-320'])
    refused(`[${text}]`, /number/);
});

test('member names: prototype names and repeats are refused, escaped spellings included; strings that look like syntax are not confused for it', () => {
  refused('{"a":{"__proto__":1}}', /not allowed \(at character 6\)/);
  refused('{"constructor":{}}', /not allowed/);
  refused('{"\\u005f_proto__":1}', /not allowed/);
  refused('{"a":1,"b":{"a":1},"a":2}', /given twice \(at character 19\)/);
  assert.deepEqual(parseStrictJson('{"a":"} { [ ,\\"a\\":","b":[{"a":1},{"a":2}]}'), { a: '} { [ ,"a":', b: [{ a: 1 }, { a: 2 }] });
});

test('depth, surrogates and UTF-8', () => {
  assert.doesNotThrow(() => parseStrictJson('['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH)));
  refused('['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1), /nesting deeper/);
  assert.equal(parseStrictJson('"\\ud83d\\ude00"'), '😀');
  refused('"\\ud83d"', /surrogate/);
  refused('"\\ude00x"', /surrogate/);
  refused(Buffer.from([0x22, 0x61, 0xc3, 0x28, 0x22]), /UTF-8 \(at byte [23]\)/); // the sequence that breaks starts at 2, is found broken at 3
  refused('{"a":', /^not valid JSON$/);
});
