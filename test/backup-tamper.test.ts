/**
 * Attacks on the repository and its keys, each tried and each failing: a changed chunk, a changed
 * or forged manifest, a chunk swapped for another, an overwrite, a wrong or mistyped recovery key,
 * a config replaced by one with the attacker's key. Works on a repository without a database.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { LocalBackend, ObjectExistsError } from '../src/backup/backend.js';
import { Chunker } from '../src/backup/chunker.js';
import { formatRecoveryKey, newRecoverySecret, parseRecoveryKey, WrongRecoveryKeyError } from '../src/backup/crypto.js';
import { initRepository, RepositoryReader, RepositoryWriter, type WriterCredential } from '../src/backup/repository.js';
import { storeShare } from '../src/backup/snapshot.js';
import { verifyRepository } from '../src/backup/verify.js';
import { makeShare, TEST_CHUNKER } from './helpers/backupFixture.js';
import { tempDir } from './helpers/tempDir.js';
import { Seeded, testSeed } from './helpers/seeded.js';

let root: string;
let repoDir: string;
let recoveryKey: string;
let credential: WriterCredential;
let snapshot: string;
let treeChunks: Set<string>;

before(async () => {
  root = tempDir('carewall-tamper-');
  repoDir = path.join(root, 'repo');
  makeShare(path.join(root, 'share'));
  const init = await initRepository(LocalBackend.create(repoDir), repoDir, TEST_CHUNKER);
  recoveryKey = init.recoveryKey;
  credential = init.credential;
  const writer = await RepositoryWriter.open(new LocalBackend(repoDir), credential);
  const share = await storeShare(writer, path.join(root, 'share'));
  treeChunks = new Set(share.tree);
  snapshot = await writer.putSnapshot(
    { format: 'carewall-backup/1', time: new Date().toISOString(), reason: 'test', host: 'h', carewallVersion: 't', config: [], shares: { s: share } },
    new Date(),
  );
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const reader = () => RepositoryReader.open(new LocalBackend(repoDir), parseRecoveryKey(recoveryKey));
const chunkFiles = () =>
  fs.readdirSync(path.join(repoDir, 'data')).flatMap((fan) => fs.readdirSync(path.join(repoDir, 'data', fan)).map((f) => path.join(repoDir, 'data', fan, f)));

/** Changes a stored object for the length of `fn`, then puts it back. */
async function tampered(file: string, change: (b: Buffer) => Buffer, fn: () => Promise<void>) {
  const original = fs.readFileSync(file);
  fs.chmodSync(file, 0o600);
  fs.writeFileSync(file, change(Buffer.from(original)));
  try {
    await fn();
  } finally {
    fs.writeFileSync(file, original);
  }
}

test('an untouched repository verifies', async () => {
  const report = await verifyRepository(await reader());
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.ok(report.chunks >= 10);
});

test('a chunk changed by one bit is found by verify, naming the chunk', async () => {
  // A chunk of a file's content (a chunk of the share's list of files would also make that list unreadable: two problems).
  const file = chunkFiles().filter((f) => !treeChunks.has(path.basename(f)))[3];
  await tampered(
    file,
    (b) => ((b[b.length - 1] ^= 1), b),
    async () => {
      const report = await verifyRepository(await reader());
      assert.equal(report.ok, false);
      assert.equal(report.problems.length, 1);
      assert.equal(report.problems[0].object, `data/${path.basename(file)}`);
      assert.match(report.problems[0].problem, /fails authentication/);
    },
  );
});

test('a chunk swapped for another chunk (both genuine) is found', async () => {
  const [a, b] = chunkFiles();
  await tampered(
    a,
    () => fs.readFileSync(b),
    async () => {
      const report = await verifyRepository(await reader());
      assert.equal(report.ok, false);
      assert.ok(report.problems.some((p) => p.object === `data/${path.basename(a)}`));
    },
  );
});

test('a changed manifest is found: its signature fails', async () => {
  const file = path.join(repoDir, snapshot);
  await tampered(
    file,
    (b) => ((b[100] ^= 0x40), b),
    async () => {
      const report = await verifyRepository(await reader());
      assert.equal(report.ok, false);
      assert.match(report.problems[0].problem, /signature does not hold/);
    },
  );
});

test('a manifest forged with another signing key is refused', async () => {
  const other = await initRepository(LocalBackend.create(path.join(root, 'other')), 'other', TEST_CHUNKER);
  // Same recipient would be needed to decrypt; the signature is checked first, against this repository's key.
  const w = await RepositoryWriter.open(new LocalBackend(path.join(root, 'other')), other.credential);
  const name = await w.putSnapshot({ forged: true }, new Date());
  fs.copyFileSync(path.join(root, 'other', name), path.join(repoDir, name));
  try {
    const { problems } = await (await reader()).snapshots();
    assert.equal(problems.length, 1);
    assert.match(problems[0].problem, /signature does not hold/);
  } finally {
    fs.rmSync(path.join(repoDir, name), { force: true });
  }
});

test('an object is never overwritten: put on an existing name fails and the content stays', async () => {
  const backend = new LocalBackend(repoDir);
  const file = chunkFiles()[0];
  const before = fs.readFileSync(file);
  await assert.rejects(backend.put(`data/${path.basename(file)}`, Buffer.from('evil')), ObjectExistsError);
  await assert.rejects(backend.put('config', Buffer.from('{}')), ObjectExistsError);
  assert.deepEqual(fs.readFileSync(file), before);
  await assert.rejects(backend.list('../' as never), /not a listing/);
  await assert.rejects(backend.put('../escape', Buffer.from('x')), /not a repository object name/);
  await assert.rejects(initRepository(backend, repoDir), /already holds a repository/);
});

test('a wrong recovery key fails clearly, before any data is read; a mistyped one is caught by its check letters', async () => {
  const wrong = formatRecoveryKey(newRecoverySecret());
  await assert.rejects(
    RepositoryReader.open(new LocalBackend(repoDir), parseRecoveryKey(wrong)),
    (err: Error) => err instanceof WrongRecoveryKeyError && /does not open the repository/.test(err.message),
  );
  const typo = recoveryKey.slice(0, 12) + (recoveryKey[12] === 'A' ? 'B' : 'A') + recoveryKey.slice(13);
  assert.throws(() => parseRecoveryKey(typo), /mistyped: its check letters do not match/);
  assert.throws(() => parseRecoveryKey('CWRK-ABCDE'), /wrong length/);
  assert.throws(() => parseRecoveryKey(recoveryKey.replace(/.$/, '1')), WrongRecoveryKeyError);
  // Lower case and spaces are fine: it is typed by people.
  assert.ok(parseRecoveryKey(recoveryKey.toLowerCase().replace(/-/g, ' ')));
});

test("a config replaced by one with an attacker's key is refused by the writer", async () => {
  const file = path.join(repoDir, 'config');
  await tampered(
    file,
    (b) => Buffer.from(b.toString().replace(/"recipient": "[^"]+"/, `"recipient": "${crypto.randomBytes(32).toString('base64')}"`)),
    async () => {
      await assert.rejects(RepositoryWriter.open(new LocalBackend(repoDir), credential), /not the one this installation was set up with/);
    },
  );
});

test('chunk boundaries depend on the key: the same data cuts differently under another key', () => {
  // Seeded: the boundaries are a function of data and key, so a failure replays from the seed it names.
  const seed = testSeed(2024);
  const rng = new Seeded(seed);
  const data = rng.bytes(2 * 1024 * 1024);
  const cuts = (key: Buffer) => {
    const c = new Chunker(key, TEST_CHUNKER);
    const out: number[] = [];
    let off = 0;
    while (off < data.length) {
      const n = c.cut(data.subarray(off), true);
      out.push(n);
      off += n;
    }
    return out;
  };
  const a = cuts(rng.bytes(32));
  const b = cuts(rng.bytes(32));
  assert.notDeepEqual(a, b, `seed ${seed}`);
  for (const n of a.slice(0, -1)) assert.ok(n >= TEST_CHUNKER.min && n <= TEST_CHUNKER.max);
  // Inserting bytes at the front moves only the first boundaries (content-defined).
  const c = new Chunker(rng.bytes(32), TEST_CHUNKER);
  const ends = (buf: Buffer) => {
    const out = new Set<number>();
    let off = 0;
    while (off < buf.length) {
      off += c.cut(buf.subarray(off), true);
      out.add(buf.length - off);
    }
    return out;
  };
  const e1 = ends(data);
  const e2 = ends(Buffer.concat([Buffer.from('inserted'), data]));
  const shared = [...e1].filter((x) => e2.has(x)).length;
  assert.ok(shared >= e1.size - 2, `${shared} of ${e1.size} boundaries kept (seed ${seed})`);
});
