/**
 * Signed notes and checkpoints against golang.org/x/mod/sumdb/note's published vectors (the
 * PeterNeumann and EnochRoot keys and signatures of note_test.go), so that any outside verifier
 * built on that package accepts Carewall's checkpoints, and rejects what it rejects.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NoteError, formatCheckpoint, generateSignerKey, openNote, parseCheckpoint, parseSignerKey, parseVerifierKey, signNote } from '../src/audit/note.js';

// golang.org/x/mod sumdb/note/note_test.go
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG = '\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

describe('signed notes (golang.org/x/mod/sumdb/note vectors)', () => {
  test('the published keys parse, and no substring or one-byte change of them does', () => {
    assert.equal(parseVerifierKey(PETER_VKEY).keyId, 0xc74f20a3);
    assert.equal(parseSignerKey(PETER_SKEY).keyId, 0xc74f20a3);
    for (const key of [PETER_VKEY, PETER_SKEY]) {
      const parse = key === PETER_VKEY ? parseVerifierKey : parseSignerKey;
      for (let i = 0; i <= key.length; i++) {
        for (let j = i + 1; j <= key.length; j++) {
          if (i === 0 && j === key.length) continue;
          assert.throws(() => parse(key.slice(i, j)), NoteError, `substring ${i}..${j} of ${key}`);
        }
      }
      for (let i = 0; i < key.length; i++) {
        const mangled = key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1);
        assert.throws(() => parse(mangled), NoteError, `byte ${i} changed in ${key}`);
      }
    }
    assert.throws(() => parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='), NoteError, 'wrong key length');
    assert.throws(() => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), NoteError, 'unknown algorithm');
  });

  test('signing the published text with the published key gives the published note, byte for byte', () => {
    assert.equal(signNote(TEXT, PETER_SKEY), `${TEXT}\n${PETER_SIG}`);
    assert.throws(() => signNote('abc', PETER_SKEY), NoteError, 'text without a final newline');
  });

  test('opening: known keys verify, unknown ones are kept unverified, a bad signature by a known key rejects the note', () => {
    const both = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    const one = openNote(both, [PETER_VKEY]);
    assert.equal(one.text, TEXT);
    assert.deepEqual(
      one.signatures.map((s) => [s.name, s.keyId, s.verified]),
      [
        ['PeterNeumann', 0xc74f20a3, true],
        ['EnochRoot', 0xaf0cfe78, false],
      ],
    );
    assert.deepEqual(
      openNote(both, [PETER_VKEY, ENOCH_VKEY]).signatures.map((s) => s.verified),
      [true, true],
    );
    assert.throws(() => openNote(both, []), /no signature by a known key/);
    assert.throws(() => openNote(`${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`, [PETER_VKEY]), /invalid signature/);
    assert.throws(() => openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [PETER_VKEY]), NoteError, 'over 100 signatures');
    // Repeated lines count once; a mangled signature by an unknown key is merely unverified.
    const repeated = openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${ENOCH_SIG.slice(0, 60)}ABCD${ENOCH_SIG.slice(60)}`, [PETER_VKEY]);
    assert.deepEqual(
      repeated.signatures.map((s) => [s.name, s.verified]),
      [
        ['PeterNeumann', true],
        ['EnochRoot', false],
        ['EnochRoot', false],
      ],
    );
  });

  test('malformed notes are refused', () => {
    const bad: Array<string | Buffer> = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\u0001${TEXT}\n${PETER_SIG}`,
      Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${PETER_SIG}`)]),
      `${TEXT}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
    ];
    for (const note of bad) assert.throws(() => openNote(note, [PETER_VKEY]), NoteError, JSON.stringify(note.toString().slice(0, 20)));
  });

  test('a generated key signs what its verifier key opens, and nothing altered', () => {
    const { signer, verifier } = generateSignerKey('clinic.example/audit');
    assert.match(verifier, /^clinic\.example\/audit\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    const note = signNote('hi\n', signer);
    assert.equal(openNote(note, [verifier]).text, 'hi\n');
    assert.throws(() => openNote(note.replace('hi', 'ho'), [verifier]), /invalid signature/);
    assert.throws(() => openNote(note, [generateSignerKey('clinic.example/audit').verifier]), /no signature by a known key/, 'another key of the same name');
  });
});

describe('checkpoints (C2SP tlog-checkpoint)', () => {
  const root = Buffer.alloc(32, 7);
  test('origin, size and base64 root, one per line, with extension lines kept', () => {
    const text = formatCheckpoint({ origin: 'clinic.example/audit', size: 42, root, extensions: ['ext one'] });
    assert.equal(text, `clinic.example/audit\n42\n${root.toString('base64')}\next one\n`);
    assert.deepEqual(parseCheckpoint(text), { origin: 'clinic.example/audit', size: 42, root, extensions: ['ext one'] });
  });
  test('bad sizes, roots and layouts are refused', () => {
    const r = root.toString('base64');
    for (const text of [
      'o\n42\n' + r,
      'o\n042\n' + r + '\n',
      'o\n-1\n' + r + '\n',
      'o\n1.5\n' + r + '\n',
      'o\n1\n' + Buffer.alloc(31).toString('base64') + '\n',
      '\n1\n' + r + '\n',
      'o\n1\n' + r + '\n\n',
      'o\n1\n',
    ]) {
      assert.throws(() => parseCheckpoint(text), NoteError, JSON.stringify(text));
    }
  });
});
