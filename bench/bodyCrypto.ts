/**
 * The cost encryption adds per record, measured where it happens: sealing and opening one body
 * (AES-256-GCM, as the store does) against the JSON work every read and write does anyway.
 * CPU-only and repeatable, unlike throughput through HTTP and a database.
 */
import crypto from 'node:crypto';
import { open, seal } from '../src/keys/envelope.js';
import { rng, syntheticObservation, syntheticPatient } from './synthetic.js';

export interface BodyCryptoResult {
  bytes: number;
  jsonMicros: number;
  cryptoMicros: number;
}

export function measureBodyCrypto(iterations = 50_000): BodyCryptoResult {
  const random = rng(3);
  const bodies = Array.from({ length: 100 }, (_, i) => (i % 2 ? syntheticPatient(random, i) : syntheticObservation(random, crypto.randomUUID()))).map((r) =>
    JSON.stringify(r),
  );
  const key = crypto.randomBytes(32);
  const time = (fn: (i: number) => void) => {
    for (let i = 0; i < 2000; i++) fn(i); // warm-up
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(i);
    return Number(process.hrtime.bigint() - t0) / 1000 / iterations;
  };
  let sink = 0;
  const jsonMicros = time((i) => {
    const text = JSON.stringify(JSON.parse(bodies[i % bodies.length]));
    sink += text.length;
  });
  const cryptoMicros = time((i) => {
    const context = `fhir:Patient/${i}/_history/1`;
    const sealed = seal(key, Buffer.from(bodies[i % bodies.length], 'utf8'), context);
    sink += open(key, sealed, context).length;
  });
  if (sink === 0) throw new Error('unreachable');
  const bytes = Math.round(bodies.reduce((n, b) => n + Buffer.byteLength(b), 0) / bodies.length);
  return { bytes, jsonMicros, cryptoMicros };
}
