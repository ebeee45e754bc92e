import crypto from 'node:crypto';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { auditMigrations } from '../src/audit/schema.js';
import { MerkleLog } from '../src/audit/log.js';
const db = await openDatabase({ dataDir: '/tmp/pglexp' });
await migrate(db, auditMigrations);
const log = new MerkleLog(db);
const leaf = () => Buffer.from(JSON.stringify({ a: crypto.randomUUID(), b: 'x'.repeat(560) }));
const cols = () => ({
  at: new Date().toISOString(),
  patient: crypto.randomUUID(),
  account: crypto.randomUUID(),
  practitioner: 'Practitioner/1',
  action: 'read',
  outcome: 'success',
});
for (const size of [1, 16, 256, 1024, 256]) {
  const rounds = Math.max(20, Math.floor(20000 / size));
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) await log.appendBatch(Array.from({ length: size }, leaf), Array.from({ length: size }, cols));
  const ms = (performance.now() - t0) / rounds;
  console.log(`batch ${size}: ${ms.toFixed(2)} ms/batch, ${((ms * 1000) / size).toFixed(1)} µs/record, ${((size / ms) * 1000).toFixed(0)}/s`);
}
await db.close();
