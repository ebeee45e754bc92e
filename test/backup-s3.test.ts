/**
 * The S3 backend against s3rver (started here on 127.0.0.1). s3rver implements neither Object Lock
 * nor conditional writes: the test checks that the backend detects that, still sends the retention
 * headers, refuses overwrites by its own check, and backs up and restores through the store.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { createRequire } from 'node:module';
import { ObjectExistsError, ObjectNotFoundError } from '../src/backup/backend.js';
import { parseRecoveryKey } from '../src/backup/crypto.js';
import { initRepository, RepositoryReader, RepositoryWriter } from '../src/backup/repository.js';
import { restoreFiles } from '../src/backup/restore.js';
import { S3Backend } from '../src/backup/s3.js';
import { storeShare } from '../src/backup/snapshot.js';
import { verifyRepository } from '../src/backup/verify.js';
import { makeShare, sha256File, TEST_CHUNKER } from './helpers/backupFixture.js';
import { tempDir } from './helpers/tempDir.js';

let root: string;
let server: { run(): Promise<{ port: number }>; close(): Promise<void> };
let address: string;
// s3rver ships no types; it is a test tool only.
const S3rver = createRequire(import.meta.url)('s3rver') as unknown;
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const sent: Array<Record<string, string | string[] | undefined>> = [];

before(async () => {
  root = tempDir('carewall-s3-');
  server = new (S3rver as unknown as new (o: object) => typeof server)({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(root, 's3') });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials });
  await client.send(new CreateBucketCommand({ Bucket: 'backups' }));
  address = `s3://backups/clinic?endpoint=${encodeURIComponent(endpoint)}&retentionDays=30`;
});
after(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

test('objects are written once with COMPLIANCE retention headers; Object Lock support is detected', async () => {
  const backend = S3Backend.fromAddress(address, credentials);
  // Watch what goes over the wire.
  (backend as unknown as { client: S3Client }).client.middlewareStack.add(
    (next) => async (args) => {
      const r = args.request as { headers?: Record<string, string> };
      if (r.headers) sent.push({ ...r.headers });
      return next(args);
    },
    { step: 'finalizeRequest' },
  );
  assert.equal(await backend.detectObjectLock(), false, 's3rver has no Object Lock');
  const name = `data/${'b'.repeat(64)}`;
  await backend.put(name, Buffer.from('first'));
  const put = sent.find((h) => h['x-amz-object-lock-mode']);
  assert.equal(put?.['x-amz-object-lock-mode'], 'COMPLIANCE');
  const until = Date.parse(String(put?.['x-amz-object-lock-retain-until-date']));
  assert.ok(until > Date.now() + 29 * 86_400_000 && until < Date.now() + 31 * 86_400_000);
  assert.equal(put?.['if-none-match'], '*');
  await assert.rejects(backend.put(name, Buffer.from('second')), ObjectExistsError);
  assert.equal((await backend.get(name)).toString(), 'first');
  await assert.rejects(backend.get(`data/${'c'.repeat(64)}`), ObjectNotFoundError);
  assert.deepEqual(await backend.list('data/'), [name]);
});

test('a backup and a restore through S3', async () => {
  const share = path.join(root, 'share');
  const hashes = makeShare(share);
  const backend = S3Backend.fromAddress(address.replace('clinic', 'repo2'), credentials);
  const init = await initRepository(backend, address, TEST_CHUNKER);
  const w = await RepositoryWriter.open(backend, init.credential);
  const stored = await storeShare(w, share);
  await w.putSnapshot(
    { format: 'carewall-backup/1', time: new Date().toISOString(), reason: 'test', host: 'h', carewallVersion: 't', config: [], shares: { docs: stored } },
    new Date(),
  );
  const reader = await RepositoryReader.open(backend, parseRecoveryKey(init.recoveryKey));
  assert.equal((await verifyRepository(reader)).ok, true);
  const { snapshots } = await reader.snapshots();
  const to = path.join(root, 'restored');
  await restoreFiles(reader, snapshots[0], 'docs', { to });
  for (const [rel, h] of Object.entries(hashes)) assert.equal(sha256File(path.join(to, rel)), h);
});
