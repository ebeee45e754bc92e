/**
 * The audit log served as C2SP tlog-tiles (issue 30), read by an outside verifier written here from
 * the specifications alone: it fetches only /audit/log/checkpoint and /audit/log/tile/..., checks
 * the checkpoint's Ed25519 signature (C2SP signed-note) against the verifier key, every leaf of the
 * entry bundles against the level-0 hash tiles, the level-1 tile against the level-0 tiles, and
 * the checkpoint's root against the RFC 6962 Merkle tree hash of the leaves. Also: who may read
 * what, fetches counted rather than each recorded, and witness cosignatures kept and served.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { C2SP_TILE_WIDTH, parseTilePath, tilePath } from '../src/audit/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { systemClientKey } from './helpers/systemClient.js';

const sha256 = (...parts: Buffer[]) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (leaf: Buffer) => sha256(Buffer.from([0]), leaf);
const nodeHash = (l: Buffer, r: Buffer) => sha256(Buffer.from([1]), l, r);
/** RFC 6962 section 2.1: the Merkle tree hash of a list of leaf hashes. */
function mth(hashes: Buffer[]): Buffer {
  if (hashes.length === 0) return sha256();
  if (hashes.length === 1) return hashes[0];
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return nodeHash(mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}
/** C2SP signed-note: the body, and its signature lines by key name. */
function verifyNote(note: string, vkey: string): { body: string; cosignatures: string[] } {
  // name+hash+key: the key is base64, which may itself hold '+'.
  const [name, keyHash, ...rest] = vkey.trim().split('+');
  const key = rest.join('+');
  const raw = Buffer.from(key, 'base64'); // 0x01 (Ed25519) then the public key
  const pub = crypto.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw.subarray(1)]), format: 'der', type: 'spki' });
  const split = note.indexOf('\n\n');
  const body = note.slice(0, split + 1);
  const lines = note
    .slice(split + 2)
    .split('\n')
    .filter(Boolean);
  const own = lines.find((l) => l.startsWith(`\u2014 ${name} `));
  assert.ok(own, 'signed by the log');
  const sig = Buffer.from(own.split(' ')[2], 'base64');
  assert.equal(sig.subarray(0, 4).toString('hex'), keyHash, 'key hash');
  assert.ok(crypto.verify(null, Buffer.from(body), pub, sig.subarray(4)), 'the log signature holds');
  return { body, cosignatures: lines.filter((l) => l !== own) };
}

describe('the audit log as C2SP tlog-tiles', () => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  let witness: http.Server;
  let witnessUrl = '';
  const COSIGNATURE = `\u2014 witness.example.org ${Buffer.alloc(72, 7).toString('base64')}`;

  before(async () => {
    witness = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${COSIGNATURE}\n`));
    });
    await new Promise<void>((r) => witness.listen(0, '127.0.0.1', r));
    witnessUrl = `http://127.0.0.1:${(witness.address() as AddressInfo).port}`;
    s = await startTestServer({ audit: { intervalSeconds: 0, witnesses: [witnessUrl] } });
    tokens.privacy = await s.login(['privacy-officer']);
    tokens.security = await s.login(['security-admin']);
    tokens.nurse = await s.login(['nurse']);
    // More than one full tile of records, so that level 1 has a (partial) tile too.
    for (let i = 0; i < 300; i++) await s.cw.audit.record({ action: 'login', outcome: 'success', user: { username: `u${i % 7}` } });
  });
  after(async () => {
    await s?.close();
    await new Promise<void>((r) => witness.close(() => r()));
  });

  const get = (path: string, token = tokens.privacy) => fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const bytes = async (path: string, token?: string) => {
    const r = await get(path, token);
    assert.equal(r.status, 200, path);
    return Buffer.from(await r.arrayBuffer());
  };

  test('tile paths as C2SP writes them', () => {
    assert.equal(tilePath({ kind: 'hash', level: 0, index: 1234067, width: 256 }), '0/x001/x234/067');
    assert.equal(tilePath({ kind: 'entries', index: 5, width: 17 }), 'entries/005.p/17');
    assert.deepEqual(parseTilePath('1/x001/234.p/9'), { kind: 'hash', level: 1, index: 1234, width: 9 });
    for (const bad of ['0/1', '0/0001', '00/000', '0/000.p/256', '0/000.p/0', '0/x001', '../000', 'entries/000.p/07'])
      assert.equal(parseTilePath(bad), undefined, bad);
  });

  test('an outside verifier rebuilds the signed root from the tiles alone, and every record from the bundles', async () => {
    const vkey = (await call(s.url, 'GET', '/api/audit/vkey', { token: tokens.privacy })).body as string;
    await s.cw.audit.checkpoints.checkpoint();
    const { body } = verifyNote(new TextDecoder().decode(await bytes('/audit/log/checkpoint')), vkey);
    const [, sizeLine, rootLine] = body.split('\n');
    const size = Number(sizeLine);
    assert.ok(size > C2SP_TILE_WIDTH, `${size} records`);
    const leafHashes: Buffer[] = [];
    for (let n = 0; n * C2SP_TILE_WIDTH < size; n++) {
      const width = Math.min(C2SP_TILE_WIDTH, size - n * C2SP_TILE_WIDTH);
      const hashes = await bytes(`/audit/log/tile/${tilePath({ kind: 'hash', level: 0, index: n, width })}`);
      assert.equal(hashes.length, width * 32);
      const bundle = await bytes(`/audit/log/tile/${tilePath({ kind: 'entries', index: n, width })}`);
      for (let i = 0, at = 0; i < width; i++) {
        const len = bundle.readUInt16BE(at);
        const leaf = bundle.subarray(at + 2, at + 2 + len);
        at += 2 + len;
        assert.ok(leafHash(leaf).equals(hashes.subarray(i * 32, i * 32 + 32)), `record ${n * C2SP_TILE_WIDTH + i}`);
        leafHashes.push(leafHash(leaf));
      }
    }
    assert.equal(mth(leafHashes).toString('base64'), rootLine, 'the signed root is the tree hash of the records');
    // Level 1: the hash of each full run of 256 records.
    const level1 = await bytes(`/audit/log/tile/${tilePath({ kind: 'hash', level: 1, index: 0, width: Math.floor(size / 256) })}`);
    assert.ok(level1.subarray(0, 32).equals(mth(leafHashes.slice(0, 256))));
    // A full tile is immutable; a tile beyond the log is not there (yet); a malformed path is no tile.
    const full = await get('/audit/log/tile/0/000');
    assert.match(full.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await get(`/audit/log/tile/0/${String(Math.ceil(size / 256) + 1).padStart(3, '0')}`)).status, 404);
    assert.equal((await get('/audit/log/tile/0/0001')).status, 404);
  });

  test('who reads what: entry bundles name people, so privacy officers and auditor clients only', async () => {
    assert.equal((await get('/audit/log/checkpoint', tokens.nurse)).status, 403);
    assert.equal((await get('/audit/log/tile/0/000', tokens.nurse)).status, 403);
    assert.equal((await get('/audit/log/tile/0/000', tokens.security)).status, 200);
    assert.equal((await get('/audit/log/tile/entries/000', tokens.security)).status, 403);
    assert.equal((await fetch(`${s.url}/audit/log/tile/0/000`)).status, 401);
    // An auditor client: registered for system/AuditEvent.read; a client for patients' data is not one.
    const { jwk, tokenFor } = await systemClientKey(s, 'aud-1');
    const auditor = await tokenFor(['system/AuditEvent.read'], 'outside-verifier');
    assert.equal((await get('/audit/log/tile/entries/000', auditor)).status, 200);
    assert.equal((await get('/audit/log/checkpoint', auditor)).status, 200);
    const reporting = await tokenFor(['system/*.read'], 'reporting');
    assert.equal((await get('/audit/log/tile/0/000', reporting)).status, 403, 'a wildcard for patients’ data does not reach the audit log');
    await assert.rejects(
      s.cw.clients.register({ name: 'forger', jwks: { keys: [jwk] }, scopes: ['system/AuditEvent.write'] }),
      /not a system scope/,
      'nobody writes the audit log through a client',
    );
  });

  test('fetches are counted, not recorded one by one: one record per reader', async () => {
    await s.cw.audit.flushTileReads();
    const before = (await s.cw.audit.log.head()).size;
    for (let i = 0; i < 20; i++) await bytes('/audit/log/tile/0/000');
    assert.equal((await s.cw.audit.log.head()).size, before, 'twenty fetches, no record yet');
    await s.cw.audit.flushTileReads();
    const after = await s.cw.audit.log.head();
    assert.equal(after.size, before + 1);
    const last = await s.cw.audit.entry(after.size - 1);
    assert.equal(last?.record.action, 'audit.tiles');
    assert.equal((last?.record.explanation as { hashTiles: number }).hashTiles, 20);
  });

  test('witness cosignatures are kept and served with the checkpoint', async () => {
    await s.cw.audit.record({ action: 'login', outcome: 'success', user: { username: 'late' } });
    const note = await s.cw.audit.checkpoints.checkpoint();
    await s.cw.audit.checkpoints.sendToWitnesses(note);
    const vkey = (await call(s.url, 'GET', '/api/audit/vkey', { token: tokens.privacy })).body as string;
    const served = new TextDecoder().decode(await bytes('/audit/log/checkpoint'));
    const { cosignatures } = verifyNote(served, vkey);
    assert.deepEqual(cosignatures, [COSIGNATURE]);
    assert.ok(served.startsWith(note), 'the checkpoint as signed, cosignatures after');
  });
});
