/**
 * `carewall vault serve`: a writer can only add. Overwrites get 409 and change nothing, deletes get
 * 403, a prune needs an administrator's request and another administrator's approval; a backup and
 * a restore go through it end to end.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { HttpBackend, ObjectExistsError } from '../src/backup/backend.js';
import { parseRecoveryKey } from '../src/backup/crypto.js';
import { initRepository, RepositoryReader, RepositoryWriter } from '../src/backup/repository.js';
import { restoreFiles } from '../src/backup/restore.js';
import { storeShare } from '../src/backup/snapshot.js';
import { verifyRepository } from '../src/backup/verify.js';
import { addCredential } from '../src/vault/credentials.js';
import { buildVault } from '../src/vault/server.js';
import { makeShare, sha256File, TEST_CHUNKER } from './helpers/backupFixture.js';
import { tempDir } from './helpers/tempDir.js';

let root: string;
let app: FastifyInstance;
let url: string;
let writer: string;
let alice: string;
let bob: string;

before(async () => {
  root = tempDir('carewall-vault-');
  const dir = path.join(root, 'vault');
  await assert.rejects(buildVault({ dir }), /no writer credential/);
  writer = addCredential(dir, 'writer', 'clinic-server');
  alice = addCredential(dir, 'admin', 'alice');
  bob = addCredential(dir, 'admin', 'bob');
  assert.throws(() => addCredential(dir, 'admin', 'alice'), /exists already/);
  app = await buildVault({ dir });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await app.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const req = (method: string, p: string, token?: string, body?: Buffer | object) =>
  fetch(`${url}/v1/${p}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json' } : {}),
    },
    body: body ? (Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body)) : undefined,
  });

const name = (c: string) => `data/${c.repeat(64)}`;

test('the writer stores new objects; an overwrite is refused with 409 and the object stays as it was', async () => {
  assert.equal((await req('PUT', `objects/${name('a')}`, writer, Buffer.from('first'))).status, 201);
  const again = await req('PUT', `objects/${name('a')}`, writer, Buffer.from('second'));
  assert.equal(again.status, 409);
  const got = await req('GET', `objects/${name('a')}`, writer);
  assert.equal(Buffer.from(await got.arrayBuffer()).toString(), 'first');
  assert.deepEqual(((await (await req('GET', 'list/data', writer)).json()) as { names: string[] }).names, [name('a')]);
});

test('nobody deletes: DELETE is 403 for the writer and for an administrator; no token is 401', async () => {
  assert.equal((await req('DELETE', `objects/${name('a')}`, writer)).status, 403);
  assert.equal((await req('DELETE', `objects/${name('a')}`, alice)).status, 403);
  assert.equal((await req('DELETE', `objects/${name('a')}`)).status, 401);
  assert.equal((await req('PUT', `objects/${name('b')}`, 'cwv_forged', Buffer.from('x'))).status, 401);
  assert.equal((await req('GET', `objects/${name('a')}`)).status, 401);
  assert.equal((await req('GET', `objects/${name('a')}`, writer)).status, 200);
});

test('bad names and bodies are refused and store nothing', async () => {
  // (fetch resolves the dots itself: the request reaches no route)
  assert.ok([400, 404].includes((await req('PUT', 'objects/data/../../vault.json', writer, Buffer.from('x'))).status));
  assert.equal((await req('PUT', 'objects/data%2F..%2F..%2Fvault.json', writer, Buffer.from('x'))).status, 400);
  assert.equal((await req('PUT', 'objects/data/xyz', writer, Buffer.from('x'))).status, 400);
  assert.equal((await req('PUT', `objects/${name('c')}`, writer, Buffer.alloc(0))).status, 400);
  assert.equal((await req('GET', 'list/secrets', writer)).status, 400);
  // An administrator does not write.
  assert.equal((await req('PUT', `objects/${name('d')}`, alice, Buffer.from('x'))).status, 403);
  assert.deepEqual(((await (await req('GET', 'list/data', writer)).json()) as { names: string[] }).names, [name('a')]);
});

test('a prune needs an administrator to ask and a second administrator to approve', async () => {
  assert.equal((await req('PUT', `objects/${name('e')}`, writer, Buffer.from('old'))).status, 201);
  // The writer cannot ask for a prune.
  assert.equal((await req('POST', 'prune-requests', writer, { objects: [name('e')], reason: 'expired' })).status, 403);
  assert.equal((await req('POST', 'prune-requests', alice, { objects: ['config'], reason: 'x' })).status, 400);
  assert.equal((await req('POST', 'prune-requests', alice, { objects: [name('e')] })).status, 400);
  const asked = await req('POST', 'prune-requests', alice, { objects: [name('e')], reason: 'retention over' });
  assert.equal(asked.status, 201);
  const { id } = (await asked.json()) as { id: string };
  // The one who asked cannot approve; the writer cannot either.
  assert.equal((await req('POST', `prune-requests/${id}/approve`, alice)).status, 403);
  assert.equal((await req('POST', `prune-requests/${id}/approve`, writer)).status, 403);
  assert.equal((await req('GET', `objects/${name('e')}`, writer)).status, 200, 'still there');
  const approved = await req('POST', `prune-requests/${id}/approve`, bob);
  assert.equal(approved.status, 200);
  assert.deepEqual(await approved.json(), { id, deleted: 1 });
  assert.equal((await req('GET', `objects/${name('e')}`, writer)).status, 404);
  assert.equal((await req('POST', `prune-requests/${id}/approve`, bob)).status, 409);
  const listed = (await (await req('GET', 'prune-requests', bob)).json()) as { requests: Array<{ requestedBy: string; approvedBy: string }> };
  assert.equal(listed.requests[0].requestedBy, 'alice');
  assert.equal(listed.requests[0].approvedBy, 'bob');
});

test('a backup and a restore through the vault; the writer credential cannot overwrite through the client either', async () => {
  const share = path.join(root, 'share');
  const hashes = makeShare(share);
  const backend = new HttpBackend(url, writer);
  const init = await initRepository(backend, url, TEST_CHUNKER, writer);
  const w = await RepositoryWriter.open(backend, init.credential);
  const stored = await storeShare(w, share);
  const snap = await w.putSnapshot(
    { format: 'carewall-backup/1', time: new Date().toISOString(), reason: 'test', host: 'h', carewallVersion: 't', config: [], shares: { docs: stored } },
    new Date(),
  );
  await assert.rejects(backend.put(snap, Buffer.from('replacement')), ObjectExistsError);
  await assert.rejects(backend.put('config', Buffer.from('{}')), ObjectExistsError);
  const reader = await RepositoryReader.open(backend, parseRecoveryKey(init.recoveryKey));
  assert.equal((await verifyRepository(reader)).ok, true);
  const { snapshots } = await reader.snapshots();
  const to = path.join(root, 'restored');
  await restoreFiles(reader, snapshots[0], 'docs', { to });
  for (const [rel, h] of Object.entries(hashes)) assert.equal(sha256File(path.join(to, rel)), h);
  // A second run stores no chunk again (dedup by keyed id through the listing).
  const w2 = await RepositoryWriter.open(backend, init.credential);
  await storeShare(w2, share);
  assert.equal(w2.stats.newChunks, 0);
});
