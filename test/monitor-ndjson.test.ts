/**
 * The monitor's NDJSON reader (src/monitor/ndjson.ts) reads lines as bytes and decodes each on its
 * own: what it gives must not depend on where the file's 1 MiB chunks happen to end.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { forEachRecord, MonitorInputError } from '../src/monitor/ndjson.js';
import { tempDir } from './helpers/tempDir.js';

const read = async (text: string | Buffer) => {
  const file = path.join(tempDir('ndjson'), 'AuditEvent.ndjson');
  fs.writeFileSync(file, text);
  const out: Array<{ value: unknown; line: number }> = [];
  const lines = await forEachRecord(file, (value, line) => out.push({ value, line }));
  return { out, lines };
};

test('records in order with their line numbers; empty, blank and CRLF lines as a text editor leaves them', async () => {
  const { out, lines } = await read('{"a":1}\r\n\n   \t\n{"b":"x"}\r\n \t{"c":[1]}\n');
  assert.deepEqual(out, [
    { value: { a: 1 }, line: 1 },
    { value: { b: 'x' }, line: 4 },
    { value: { c: [1] }, line: 5 },
  ]);
  assert.equal(lines, 5);
  assert.deepEqual((await read('{"last":true}')).out, [{ value: { last: true }, line: 1 }], 'a last line without its newline');
});

test("a multi-byte character across the boundary of the reader's chunks comes through whole", async () => {
  const chunk = 1 << 20;
  const name = 'Zoë Ångström 名';
  // The name's bytes: ë at 2-3, Å at 5-6, ö at 12-13, 名 at 16-18; it begins 9 bytes into its line.
  for (const inside of [3, 6, 13, 17, 18]) {
    const prefix = `{"pad":"${'x'.repeat(chunk - 20 - inside)}"}\n`; // the chunk ends `inside` bytes into the name
    assert.equal(Buffer.from(prefix).length + 9 + inside, chunk);
    const { out } = await read(Buffer.concat([Buffer.from(prefix), Buffer.from(`{"name":"${name}"}\n`)]));
    assert.equal(out.length, 2);
    assert.deepEqual(out[1].value, { name });
  }
});

test('a line that is not JSON, or not an object, stops the reading with file:line and without its text', async () => {
  await assert.rejects(read('{"a":1}\n{"secret patient name": \n'), (err: Error) => {
    assert.ok(err instanceof MonitorInputError);
    assert.equal(err.message, 'AuditEvent.ndjson:2: not valid JSON');
    return true;
  });
  await assert.rejects(read('{"a":1}\n\n[1,2]\n'), /AuditEvent\.ndjson:3: not a JSON object/);
});
