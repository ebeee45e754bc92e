/**
 * What reading a request body strictly costs (src/util/strictJson.ts: invalid UTF-8, duplicate and
 * prototype member names, depth and inexact numbers refused) against the JSON.parse of a lenient
 * decoding, on a Bundle of about 1 MB. CPU-only; the two alternate, the faster of five rounds each.
 */
import { parseStrictJson } from '../src/util/strictJson.js';
import { rng, syntheticObservation } from './synthetic.js';

export interface BodyReadingResult {
  bytes: number;
  parseMs: number;
  strictMs: number;
}

export function measureBodyReading(): BodyReadingResult {
  const random = rng(5);
  const entries = [];
  for (let i = 0; entries.length === 0 || JSON.stringify(entries).length < 1_000_000; i++)
    entries.push({ resource: syntheticObservation(random, `patient-${i % 50}`) });
  const body = Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }));
  const time = (fn: () => unknown) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 10; i++) fn();
    return Number(process.hrtime.bigint() - t0) / 1e6 / 10;
  };
  let parseMs = Infinity;
  let strictMs = Infinity;
  for (let round = 0; round < 5; round++) {
    parseMs = Math.min(
      parseMs,
      time(() => JSON.parse(body.toString('utf8'))),
    );
    strictMs = Math.min(
      strictMs,
      time(() => parseStrictJson(body)),
    );
  }
  return { bytes: body.length, parseMs, strictMs };
}
