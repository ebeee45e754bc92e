/**
 * The Merkle tree code against the RFC 6962 test vectors published by transparency-dev/merkle
 * (testonly/constants.go and proof/verify_test.go): the 8 standard leaves, every complete subtree,
 * the roots of sizes 0-8, the published inclusion and consistency proofs, and the corruptions that
 * verify_test.go requires to fail. Then every proof for trees up to 70 leaves is compared with a
 * direct transcription of RFC 9162's recursive definitions over the leaves themselves.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import nodePath from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { describe, test } from 'node:test';
import {
  EMPTY_ROOT,
  MemoryNodes,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  rootAt,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../src/audit/merkle.js';
import { Seeded, testSeed } from './helpers/seeded.js';
import { batchHasher, nodeCryptoHasher, nodeZlibInflater, rawInflater, type InflateRawInto } from '../src/audit/batchHash.js';

const h = (hex: string) => Buffer.from(hex, 'hex');

// transparency-dev/merkle testonly/constants.go
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(h);
const NODE_HASHES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  ['d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
].map((level) => level.map(h));
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(h);

// transparency-dev/merkle proof/verify_test.go: leaf numbers there are 1-based.
const INCLUSION: Array<{ leaf: number; size: number; proof: string[] }> = [
  {
    leaf: 1,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    leaf: 6,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { leaf: 3, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    leaf: 2,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  { leaf: 1, size: 1, proof: [] },
];
const CONSISTENCY: Array<{ from: number; to: number; proof: string[] }> = [
  { from: 1, to: 1, proof: [] },
  {
    from: 1,
    to: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    from: 6,
    to: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    from: 2,
    to: 5,
    proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'],
  },
  {
    from: 6,
    to: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];
const SOME_HASH = h('abacaba000000000000000000000000000000000000000000060061e00123456');

function tree(leaves: Buffer[]): MemoryNodes {
  const nodes = new MemoryNodes();
  for (const leaf of leaves) nodes.append(leafHash(leaf));
  return nodes;
}

const hexes = (proof: Buffer[]) => proof.map((p) => p.toString('hex'));
const flipped = (proof: Buffer[], i: number, bit: number) => proof.map((p, j) => (j === i ? Buffer.from([p[0] ^ bit, ...p.subarray(1)]) : p));

describe('RFC 6962 vectors (transparency-dev/merkle)', () => {
  test('leaf hashes, every complete subtree and the roots of sizes 0 to 8', async () => {
    assert.equal(EMPTY_ROOT.toString('hex'), ROOTS[0].toString('hex'));
    const nodes = tree(LEAVES);
    for (let level = 0; level < NODE_HASHES.length; level++) {
      for (let i = 0; i < NODE_HASHES[level].length; i++) {
        assert.equal((await nodes.node(level, i)).toString('hex'), NODE_HASHES[level][i].toString('hex'), `node ${level}/${i}`);
      }
    }
    for (let size = 0; size <= 8; size++) {
      assert.equal((await rootAt(nodes, size)).toString('hex'), ROOTS[size].toString('hex'), `root of ${size} from stored subtrees`);
      assert.equal(rootFromLeafHashes(LEAVES.slice(0, size).map(leafHash)).toString('hex'), ROOTS[size].toString('hex'), `root of ${size} in memory`);
    }
  });

  test('the published inclusion proofs are produced, verify, and every corruption of them fails', async () => {
    const nodes = tree(LEAVES);
    for (const v of INCLUSION) {
      const index = v.leaf - 1;
      const proof = v.proof.map(h);
      const leaf = leafHash(LEAVES[index]);
      const root = ROOTS[v.size];
      assert.deepEqual(hexes(await inclusionProof(nodes, index, v.size)), v.proof, `proof for ${index} in ${v.size}`);
      assert.ok(verifyInclusion(index, v.size, leaf, proof, root), `verifies ${index} in ${v.size}`);

      // proof/verify_test.go corruptInclusionProof: each must fail.
      const probes: Array<[string, number, number, Buffer, Buffer[], Buffer]> = [
        ['index - 1', index - 1, v.size, leaf, proof, root],
        ['index + 1', index + 1, v.size, leaf, proof, root],
        ['index ^ 2', index ^ 2, v.size, leaf, proof, root],
        ['size * 2', index, v.size * 2, leaf, proof, root],
        ['size / 2', index, Math.floor(v.size / 2), leaf, proof, root],
        ['wrong leaf', index, v.size, Buffer.from('WrongLeaf'), proof, root],
        ['empty root', index, v.size, leaf, proof, EMPTY_ROOT],
        ['random root', index, v.size, leaf, proof, SOME_HASH],
        ['trailing garbage', index, v.size, leaf, [...proof, Buffer.alloc(0)], root],
        ['trailing root', index, v.size, leaf, [...proof, root], root],
        ['preceding garbage', index, v.size, leaf, [Buffer.alloc(0), ...proof], root],
        ['preceding root', index, v.size, leaf, [root, ...proof], root],
      ];
      for (let i = 0; i < proof.length; i++) probes.push([`proof[${i}] bit 3 flipped`, index, v.size, leaf, flipped(proof, i, 8), root]);
      if (proof.length > 0) probes.push(['removed component', index, v.size, leaf, proof.slice(0, -1), root]);
      if (proof.length > 1) probes.push(['inserted component', index, v.size, leaf, [proof[0], SOME_HASH, ...proof.slice(1)], root]);
      for (const [desc, i, size, lh, p, r] of probes) {
        assert.equal(verifyInclusion(i, size, lh, p, r), false, `${desc} must not verify (${index} in ${v.size})`);
      }
    }
  });

  test('inclusion: impossible positions and hashes of the wrong size fail', () => {
    for (const [index, size] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [2, 1],
    ]) {
      assert.equal(verifyInclusion(index, size, SOME_HASH, [], Buffer.alloc(0)), false);
      assert.equal(verifyInclusion(index, size, Buffer.alloc(0), [], EMPTY_ROOT), false);
      assert.equal(verifyInclusion(index, size, SOME_HASH, [], EMPTY_ROOT), false);
    }
    const single = leafHash(Buffer.from('data'));
    assert.ok(verifyInclusion(0, 1, single, [], single), 'a one-leaf tree: the root is the leaf hash');
    assert.equal(verifyInclusion(0, 1, Buffer.alloc(0), [], single), false);
    assert.equal(verifyInclusion(0, 1, single, [], Buffer.alloc(0)), false);
    assert.equal(verifyInclusion(0, 1, Buffer.alloc(0), [], Buffer.alloc(0)), false, 'hashes of the wrong size');
  });

  test('the published consistency proofs are produced, verify, and every corruption of them fails', async () => {
    const nodes = tree(LEAVES);
    for (const v of CONSISTENCY) {
      const proof = v.proof.map(h);
      const [r1, r2] = [ROOTS[v.from], ROOTS[v.to]];
      assert.deepEqual(hexes(await consistencyProof(nodes, v.from, v.to)), v.proof, `proof ${v.from} -> ${v.to}`);
      assert.ok(verifyConsistency(v.from, v.to, proof, r1, r2), `verifies ${v.from} -> ${v.to}`);
      if (proof.length === 0) continue;
      // proof/verify_test.go corruptConsistencyProof: each must fail.
      const probes: Array<[string, number, number, Buffer[], Buffer, Buffer]> = [
        ['from - 1', v.from - 1, v.to, proof, r1, r2],
        ['from + 1', v.from + 1, v.to, proof, r1, r2],
        ['from ^ 2', v.from ^ 2, v.to, proof, r1, r2],
        ['to * 2', v.from, v.to * 2, proof, r1, r2],
        ['to / 2', v.from, Math.floor(v.to / 2), proof, r1, r2],
        ['wrong root1', v.from, v.to, proof, Buffer.from('WrongRoot'), r2],
        ['wrong root2', v.from, v.to, proof, r1, Buffer.from('WrongRoot')],
        ['swapped roots', v.from, v.to, proof, r2, r1],
        ['empty proof', v.from, v.to, [], r1, r2],
        ['trailing garbage', v.from, v.to, [...proof, Buffer.alloc(0)], r1, r2],
        ['trailing root1', v.from, v.to, [...proof, r1], r1, r2],
        ['trailing root2', v.from, v.to, [...proof, r2], r1, r2],
        ['preceding garbage', v.from, v.to, [Buffer.alloc(0), ...proof], r1, r2],
        ['preceding root1', v.from, v.to, [r1, ...proof], r1, r2],
        ['preceding root2', v.from, v.to, [r2, ...proof], r1, r2],
        ['preceding proof[0]', v.from, v.to, [proof[0], ...proof], r1, r2],
        ['truncated proof', v.from, v.to, proof.slice(0, -1), r1, r2],
      ];
      for (let i = 0; i < proof.length; i++) probes.push([`proof[${i}] bit 4 flipped`, v.from, v.to, flipped(proof, i, 16), r1, r2]);
      for (const [desc, from, to, p, a, b] of probes) {
        assert.equal(verifyConsistency(from, to, p, a, b), false, `${desc} must not verify (${v.from} -> ${v.to})`);
      }
    }
  });

  test('consistency: trivial sizes, travel to the past and mismatched roots', () => {
    const [root1, root2] = [Buffer.from("don't care 1"), Buffer.from("don't care 2")];
    const cases: Array<[number, number, Buffer, Buffer, Buffer[], boolean]> = [
      [0, 0, root1, root2, [], false],
      [1, 1, root1, root2, [], false],
      [0, 0, root1, root1, [], true],
      [0, 1, root1, root2, [], true],
      [1, 1, root2, root2, [], true],
      [1, 0, root1, root2, [], false],
      [2, 1, root1, root2, [], false],
      [1, 2, root1, root2, [], false],
      [0, 0, EMPTY_ROOT, root2, [], false],
      [1, 1, EMPTY_ROOT, root2, [], false],
      [0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], false],
      [0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], false],
      [1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], false],
    ];
    for (const [from, to, a, b, proof, ok] of cases) {
      assert.equal(verifyConsistency(from, to, proof, a, b), ok, `${from} -> ${to}`);
    }
  });
});

// RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1 transcribed over the leaves themselves (no stored subtrees),
// as the reference the stored-subtree code must agree with.
function mth(d: Buffer[]): Buffer {
  if (d.length === 0) return crypto.createHash('sha256').digest();
  if (d.length === 1) return leafHash(d[0]);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
}
function path(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
function subproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [mth(d)];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m <= k ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}

describe('every tree up to 70 leaves against the RFC text', () => {
  const leaves = Array.from({ length: 70 }, (_, i) => Buffer.from(`leaf ${i}`));
  const nodes = tree(leaves);

  test('roots, inclusion proofs for every leaf, consistency proofs for every pair of sizes', async () => {
    const roots = leaves.map((_, i) => mth(leaves.slice(0, i + 1)));
    for (let size = 1; size <= leaves.length; size++) {
      const root = roots[size - 1];
      assert.equal((await rootAt(nodes, size)).toString('hex'), root.toString('hex'), `root ${size}`);
      for (let i = 0; i < size; i++) {
        const proof = await inclusionProof(nodes, i, size);
        assert.deepEqual(hexes(proof), hexes(path(i, leaves.slice(0, size))), `PATH(${i}, ${size})`);
        assert.ok(verifyInclusion(i, size, leafHash(leaves[i]), proof, root));
        assert.equal(verifyInclusion(i, size, leafHash(leaves[(i + 1) % size]), proof, root), size === 1);
      }
      for (let from = 1; from <= size; from++) {
        const proof = await consistencyProof(nodes, from, size);
        assert.deepEqual(hexes(proof), from === size ? [] : hexes(subproof(from, leaves.slice(0, size), true)), `PROOF(${from}, ${size})`);
        assert.ok(verifyConsistency(from, size, proof, roots[from - 1], root), `consistent ${from} -> ${size}`);
        if (from < size)
          assert.equal(verifyConsistency(from, size, proof, roots[size - 2] ?? root, root), from === size - 1, 'a proof for another first root fails');
      }
    }
  });
});

describe('batched hashing used by verification (src/audit/batchHash.ts)', () => {
  const hashers = [nodeCryptoHasher, ...(batchHasher().native ? [batchHasher()] : [])];
  // Whether this machine can build the addon, decided apart from whether it was built: a build that
  // should have worked and did not is a failure, not a skip.
  const nodeHeaders = fs.existsSync(nodePath.join(nodePath.dirname(nodePath.dirname(process.execPath)), 'include', 'node', 'node_api.h'));
  const compiler = ['cc', 'gcc', 'c++', 'g++'].some((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
  const canBuild = nodeHeaders && compiler;

  test(
    'the native addon is built by npm install (native/merkle.c)',
    { skip: canBuild ? false : `no ${nodeHeaders ? 'C compiler' : 'Node headers'} on this machine: node:crypto is used, with the same results` },
    () => {
      assert.equal(batchHasher().native, process.env.CAREWALL_NATIVE_HASH !== '0');
    },
  );

  for (const hasher of hashers) {
    const name = hasher.native ? 'native' : 'node:crypto';
    test(`${name}: leaf and node hashes of the 8 standard leaves give the published subtrees`, () => {
      // The leaves laid out in one buffer with junk between them, addressed by bounds.
      const parts: Buffer[] = [];
      const bounds = new Int32Array(2 * LEAVES.length);
      let at = 0;
      LEAVES.forEach((leaf, i) => {
        parts.push(Buffer.from([0xee, 0xff]), leaf);
        bounds[2 * i] = at + 2;
        bounds[2 * i + 1] = at + 2 + leaf.length;
        at += 2 + leaf.length;
      });
      const level0 = Buffer.alloc(32 * LEAVES.length);
      hasher.sha256Each(Buffer.concat(parts), bounds, 0, level0);
      let level = level0;
      for (let l = 0; l < NODE_HASHES.length; l++) {
        assert.deepEqual(
          splitHex(level),
          NODE_HASHES[l].map((x) => x.toString('hex')),
          `level ${l}`,
        );
        const up = Buffer.alloc(32 * Math.floor(level.length / 64));
        assert.equal(hasher.parentLevel(level, up), Math.floor(level.length / 64));
        level = up;
      }
      // No prefix (-1) is plain SHA-256; an odd child left over makes no parent.
      const plain = Buffer.alloc(32);
      hasher.sha256Each(LEAVES[3], Int32Array.of(0, LEAVES[3].length), -1, plain);
      assert.deepEqual(plain, crypto.createHash('sha256').update(LEAVES[3]).digest());
      assert.equal(hasher.parentLevel(level0.subarray(0, 96), Buffer.alloc(32)), 1);
    });

    test(`${name}: bounds outside the data and outputs too small are refused`, () => {
      assert.throws(() => hasher.sha256Each(Buffer.alloc(4), Int32Array.of(0, 4), 0, Buffer.alloc(16)), RangeError);
      assert.throws(() => hasher.parentLevel(Buffer.alloc(128), Buffer.alloc(32)), RangeError);
      if (hasher.native) assert.throws(() => hasher.sha256Each(Buffer.alloc(4), Int32Array.of(2, 9), 0, Buffer.alloc(32)), RangeError);
    });
  }

  test('both give the same bytes on random leaves', { skip: batchHasher().native ? false : 'native addon not built' }, () => {
    const rng = new Seeded(testSeed(24));
    const data = rng.bytes(50_000);
    const n = 300;
    const bounds = new Int32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const s = rng.int(0, data.length - 1);
      bounds[2 * i] = s;
      bounds[2 * i + 1] = rng.int(s, Math.min(data.length, s + 2000));
    }
    const [a, b] = [Buffer.alloc(32 * n), Buffer.alloc(32 * n)];
    nodeCryptoHasher.sha256Each(data, bounds, 0, a);
    batchHasher().sha256Each(data, bounds, 0, b);
    assert.deepEqual(a, b, `seed ${rng.seed}`);
    const [pa, pb] = [Buffer.alloc(16 * n), Buffer.alloc(16 * n)];
    nodeCryptoHasher.parentLevel(a, pa);
    batchHasher().parentLevel(a, pb);
    assert.deepEqual(pa, pb, `seed ${rng.seed}`);
  });
});

describe('inflating compressed bundles (src/audit/batchHash.ts rawInflater)', () => {
  const inflaters: Array<[string, InflateRawInto]> = [
    ['node:zlib', nodeZlibInflater],
    ...(batchHasher().native ? [['native', rawInflater()] as [string, InflateRawInto]] : []),
  ];
  const plain = Buffer.from(Array.from({ length: 400 }, (_, i) => `{"record":${i},"who":"dr-${i % 7}"}`).join(''));
  const stream = zlib.deflateRawSync(plain);
  for (const [name, inflate] of inflaters) {
    test(`${name}: a stream inflates into exactly the room given, and nothing else does`, () => {
      const room = Buffer.alloc(plain.length);
      assert.equal(inflate(stream, room), plain.length);
      assert.deepEqual(room, plain);
      // Bytes after the stream's end are ignored; more room than needed is fine.
      assert.equal(inflate(Buffer.concat([stream, Buffer.from('trailing')]), Buffer.alloc(plain.length + 10)), plain.length);
      // Refused: output past the room, a stream cut short, bytes that are no stream.
      assert.equal(inflate(stream, Buffer.alloc(plain.length - 1)), -1);
      assert.equal(inflate(stream.subarray(0, stream.length - 1), Buffer.alloc(plain.length)), -1);
      assert.equal(inflate(stream.subarray(0, stream.length >> 1), Buffer.alloc(plain.length)), -1);
      assert.equal(inflate(Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.alloc(plain.length)), -1);
      // No room: only a stream of nothing fits.
      assert.equal(inflate(zlib.deflateRawSync(Buffer.alloc(0)), Buffer.alloc(0)), 0);
      assert.equal(inflate(stream, Buffer.alloc(0)), -1);
    });
  }

  test(
    'both inflate random streams to the same bytes, and refuse the same damaged ones',
    { skip: batchHasher().native ? false : 'native addon not built' },
    () => {
      const rng = new Seeded(testSeed(8));
      for (let round = 0; round < 300; round++) {
        const bytes = Buffer.concat([rng.bytes(rng.int(0, 300)), Buffer.alloc(rng.int(0, 3000), round)]);
        const deflated = zlib.deflateRawSync(bytes, { level: rng.int(1, 10) });
        const damaged = Buffer.from(deflated);
        damaged[rng.int(0, damaged.length)] ^= 1 << rng.int(0, 8);
        const where = `seed ${rng.seed}, round ${round}`;
        for (const input of [deflated, damaged]) {
          const [a, b] = [Buffer.alloc(bytes.length), Buffer.alloc(bytes.length)];
          const [na, nb] = [nodeZlibInflater(input, a), rawInflater()(input, b)];
          assert.equal(na, nb, where);
          // Only the bytes written count (zlib may copy wide chunks past them, within the room).
          if (na >= 0) assert.deepEqual(a.subarray(0, na), b.subarray(0, nb), where);
        }
      }
    },
  );
});

function splitHex(level: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < level.length; at += 32) out.push(level.subarray(at, at + 32).toString('hex'));
  return out;
}
