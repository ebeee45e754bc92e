/**
 * Issue 32: wipers and header-keeping encryption. The detectors on bytes (body structure, what a
 * wipe looks like against the fingerprint), the burst and deletion rules on injected times and
 * real files, then the guard end to end: each new attack tried and caught, each housekeeping
 * workload (log rotation, database rewrite, temp files, backup prune, export folder) quiet.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { BurstMeter, BURST_FILES } from '../src/guard/burst.js';
import { Destruction, transient, wipeSignal } from '../src/guard/destruction.js';
import { compareToBaseline } from '../src/guard/evidence.js';
import { csv, dicom, docx, jpeg, pdf, png, Rng, txt } from '../src/guard/formats.js';
import { BENIGN, Guard, makeShare, runBehaviour } from '../src/guard/index.js';
import { listTargets } from '../src/guard/simulate/behaviours.js';
import { HOUSEKEEPING } from '../src/guard/simulate/housekeeping.js';
import { fingerprintOfBytes } from './helpers/guardFingerprint.js';
import type { Fingerprint } from '../src/guard/fingerprint.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-guard-wipers-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

const fp = fingerprintOfBytes;
const keys = new Rng(3232);
const seededBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(keys.next() * 256)));
/** Encrypts everything after the first `keep` bytes (seeded key: the same bytes every run). */
const keepHead = (b: Buffer, keep: number) => {
  const c = crypto.createCipheriv('aes-256-ctr', seededBytes(32), seededBytes(16));
  return Buffer.concat([b.subarray(0, keep), c.update(b.subarray(keep)), c.final()]);
};
const rng = new Rng(32);

describe('body structure behind an intact header', () => {
  const samples: Array<[string, () => Promise<Buffer> | Buffer]> = [
    ['pdf', () => pdf(rng, 3)],
    ['zip', () => docx(rng, 80)],
    ['jpg', () => jpeg(rng, 300)],
    ['png', () => png(rng, 64)],
    ['dcm', () => dicom(rng, 256)],
  ];
  for (const [kind, make] of samples) {
    test(`${kind}: intact when written, broken when all but its first bytes are encrypted (16 and 512 kept)`, async () => {
      const file = await make();
      const before = await fp(file);
      assert.equal(before.kind, kind);
      assert.equal(before.intact, true);
      for (const keep of [16, 512]) {
        const after = await fp(keepHead(file, keep));
        if (after.kind !== kind) continue; // the header itself went (a DICOM preamble with 16 kept): another detector's case
        const s = compareToBaseline(before, after);
        assert.ok(s && s.weight >= 1, `${kind} with ${keep} bytes kept is destroyed`);
      }
    });
  }
  test('a document re-saved as a new valid file of its format is no evidence', async () => {
    for (const [a, b] of [
      [pdf(rng, 2), pdf(rng, 2)],
      [await docx(rng, 40), await docx(rng, 41)],
      [jpeg(rng, 300), jpeg(rng, 301)],
      [dicom(rng, 256), dicom(rng, 256)],
    ]) {
      const s = compareToBaseline(await fp(a), await fp(b));
      assert.equal(s, undefined, (await fp(a)).kind);
    }
  });
});

describe('what a wipe looks like', () => {
  test('emptied, zero-filled, one byte repeated, or cut to a sliver: each is a wipe', async () => {
    const doc = await fp(pdf(rng, 4));
    const letter = await fp(txt(rng, 2000));
    assert.match(wipeSignal(doc, await fp(Buffer.alloc(0)))!, /emptied/);
    assert.match(wipeSignal(doc, await fp(Buffer.alloc(doc.size)))!, /zeros/);
    assert.match(wipeSignal(letter, await fp(Buffer.alloc(letter.size, 0xcc)))!, /repeated/);
    assert.match(wipeSignal(doc, await fp(pdf(rng, 4).subarray(0, 512)))!, /cut/);
  });
  test('cut far below its size (a quarter or less) with its structure gone: a letter, a note cut mid-line', async () => {
    const letter = await docx(rng, 30);
    assert.ok(letter.length >= 2048 && letter.length < 5120, `a small letter (${letter.length} bytes)`);
    assert.match(wipeSignal(await fp(letter), await fp(letter.subarray(0, 512)))!, /cut/, 'a letter cut to its first 512 bytes');
    const note = txt(rng, 1500);
    const cut = note.subarray(0, 512);
    assert.notEqual(cut[cut.length - 1], 0x0a, 'the cut falls inside a line');
    assert.match(wipeSignal(await fp(note), await fp(cut))!, /cut/, 'a note cut to its first 512 bytes');
  });
  test('text rewritten much shorter, ending its last line: no wipe (an export regenerated with fewer rows)', async () => {
    const before = csv(rng, 800);
    const after = csv(rng, 10);
    assert.ok(after.length * 10 < before.length);
    assert.equal(wipeSignal(await fp(before), await fp(after)), undefined);
    const unterminated = Buffer.from(txt(rng, 1500).toString().trimEnd());
    assert.equal(wipeSignal(await fp(unterminated), await fp(unterminated.subarray(0, 512))), undefined, 'a note that never ended its line: cannot tell');
  });
  test('edits, growth, a small file, a file that was empty: none is a wipe', async () => {
    const letter = txt(rng, 2000);
    assert.equal(wipeSignal(await fp(letter), await fp(Buffer.concat([letter, txt(rng, 50)]))), undefined);
    assert.equal(wipeSignal(await fp(letter), await fp(letter.subarray(0, letter.length - 300))), undefined, 'text shortened by an edit');
    assert.equal(wipeSignal(await fp(Buffer.from('lock\n')), await fp(Buffer.alloc(0))), undefined, 'a tiny file emptied');
    assert.equal(wipeSignal(await fp(Buffer.alloc(0)), await fp(Buffer.alloc(0))), undefined);
  });
  test('logs, temp and cache files are emptied by their programs; folders count inside the share only', () => {
    const root = path.join(os.tmpdir(), 'share');
    assert.equal(transient(path.join(root, 'IT', 'app.log'), [root]), true);
    assert.equal(transient(path.join(root, 'IT', 'app.log.1'), [root]), true);
    assert.equal(transient(path.join(root, 'IT', 'cache', 'x.bin'), [root]), true);
    assert.equal(transient(path.join(root, 'Scans', 'upload.tmp'), [root]), true);
    assert.equal(transient(path.join(root, 'Patients', 'letter.docx'), [root]), false, 'a share under /tmp is no temp folder');
  });
});

describe('wiped files and deletions confirmed against the disk', () => {
  const folder = (name: string) => {
    const d = path.join(work, name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  const wipedNow = (p: string): Fingerprint => {
    const st = fs.statSync(p);
    return { size: st.size, mtimeMs: st.mtimeMs, kind: 'empty', blocks: [], sample: '' };
  };

  test('a second file wiped while the first still is: both destroyed', () => {
    const d = folder('wipe-two');
    const t = new Destruction([work]);
    const [a, b] = ['a.pdf', 'b.pdf'].map((n) => path.join(d, n));
    fs.writeFileSync(a, '');
    fs.writeFileSync(b, '');
    assert.deepEqual(t.wiped(a, wipedNow(a), 'emptied', 1000), [], 'one wiped file is only pending');
    assert.deepEqual(
      t.wiped(b, wipedNow(b), 'emptied', 1010).map((c) => c.path),
      [a, b],
    );
  });

  test('a file rewritten (emptied, then written) before the next is emptied: nothing confirmed', () => {
    const d = folder('rewrite');
    const t = new Destruction([work]);
    const [a, b] = ['a.db', 'b.db'].map((n) => path.join(d, n));
    fs.writeFileSync(a, '');
    assert.deepEqual(t.wiped(a, wipedNow(a), 'emptied', 1000), []);
    fs.writeFileSync(a, 'SQLite format 3\0' + 'x'.repeat(5000)); // its write finished
    fs.writeFileSync(b, '');
    assert.deepEqual(t.wiped(b, wipedNow(b), 'emptied', 1010), []);
  });

  const old: Fingerprint = { size: 50_000, mtimeMs: 0, kind: 'pdf', blocks: [], sample: 'x' };

  /** The deferred verdict runs when the test says (an injected clock), not after a sleep. */
  const manual = () => {
    const due: Array<() => void> = [];
    const t = new Destruction([work], (fn) => {
      due.push(fn);
      return () => due.splice(due.indexOf(fn), 1);
    });
    const confirmed: string[] = [];
    const del = (p: string, at: number) => t.deleted(p, old, at, (cs) => confirmed.push(...cs.map((c) => c.path)));
    const settle = () => due.splice(0).forEach((fn) => fn());
    return { t, del, settle, confirmed, due };
  };

  test('the deleter moved on: two files from one folder, then one from another, both still there: destroyed at the third, once they pause', () => {
    const [d1, d2] = [folder('del/Lab'), folder('del/Patients/P1/Letters')];
    const m = manual();
    const files = [path.join(d1, 'a.csv'), path.join(d1, 'b.csv'), path.join(d2, 'c.docx')];
    files.forEach((p, i) => m.del(p, 1000 + 25 * i));
    assert.deepEqual(m.confirmed, [], 'not before a pause');
    assert.equal(m.due.length, 1);
    m.settle();
    assert.deepEqual(m.confirmed, files);
    const later = path.join(d2, 'd.docx');
    m.del(later, 1100);
    assert.deepEqual(m.confirmed, [...files, later], 'a deletion after the verdict joins it at once');
  });

  test('a deletion judged after the verdict was due (its timer held up): the verdict comes first, the pause having happened', () => {
    const [d1, d2] = [folder('late/Lab'), folder('late/Patients/P2/Letters')];
    const m = manual();
    const files = [path.join(d1, 'a.csv'), path.join(d1, 'b.csv'), path.join(d2, 'c.docx')];
    files.forEach((p, i) => m.del(p, 1000 + 25 * i));
    assert.deepEqual(m.confirmed, []);
    const fourth = path.join(d2, 'd.docx');
    m.del(fourth, 1075); // 25 ms after the third: more than the pause the verdict waits for
    assert.deepEqual(m.confirmed, [...files, fourth]);
    assert.equal(m.due.length, 0, 'nothing left to wait for');
  });

  test('each deletion before the pause moves the verdict on; folders removed meanwhile no longer count', () => {
    const [q1, q2] = [folder('pause/2019/Q1'), folder('pause/2019/Q2')];
    const m = manual();
    // Judged late, one after the other (the guard behind): spread in time although they happened together.
    for (let i = 0; i < 3; i++) m.del(path.join(q1, `${i}.csv`), 1000 + 10 * i);
    for (let i = 0; i < 3; i++) m.del(path.join(q2, `${i}.csv`), 1030 + 10 * i);
    assert.equal(m.due.length, 1, 'one verdict, moved on');
    fs.rmSync(path.join(work, 'pause/2019'), { recursive: true });
    m.settle();
    assert.deepEqual(m.confirmed, []);
  });

  test('deletions too close together to tell a folder being removed: the verdict waits, then counts the folders still there', () => {
    const [d1, d2] = [folder('fast/one'), folder('fast/two')];
    const m = manual();
    const files = [path.join(d1, 'a.pdf'), path.join(d1, 'b.pdf'), path.join(d2, 'c.pdf')];
    files.forEach((p, i) => m.del(p, 1000 + i));
    assert.deepEqual(m.confirmed, [], 'not yet');
    assert.equal(m.due.length, 1);
    m.settle();
    assert.deepEqual(m.confirmed, files);
  });

  test('deletions inside one folder, in folders removed before the verdict, or among more writes: none confirmed', () => {
    const one = folder('del1/only');
    const a = manual();
    for (let i = 0; i < 10; i++) a.del(path.join(one, `${i}.csv.gz`), 1000 + 25 * i);
    a.settle();
    assert.deepEqual(a.confirmed, [], 'a prune in its own folder');
    const [q1, q2] = [folder('del3/2019/Q1'), folder('del3/2019/Q2')];
    const b = manual();
    for (let i = 0; i < 8; i++) b.del(path.join(i % 2 ? q1 : q2, `${i}.csv`), 1000 + i);
    fs.rmSync(path.join(work, 'del3/2019'), { recursive: true }); // the folder went too: removed whole
    b.settle();
    assert.deepEqual(b.confirmed, [], 'a folder removed whole');
    const [d1, d2] = [folder('del2/one'), folder('del2/two')];
    const c = manual();
    for (let i = 0; i < 6; i++) c.t.changed(1000);
    for (let i = 0; i < 6; i++) c.del(path.join(i % 2 ? d1 : d2, `${i}.md`), 1001 + 25 * i);
    c.settle();
    assert.deepEqual(c.confirmed, [], 'a checkout: deletions among writes');
  });

  test('a folder and its subfolder are one branch (a tree being removed, parent files among its children): none confirmed', () => {
    const parent = folder('tree/Study');
    const child = folder('tree/Study/Series1');
    const m = manual();
    m.del(path.join(parent, 'report.pdf'), 1000);
    for (let i = 0; i < 5; i++) m.del(path.join(child, `IM${i}.dcm`), 1025 + 25 * i);
    m.settle();
    assert.deepEqual(m.confirmed, []);
  });

  /** A clock that runs only the verdicts due within the time said to pass. */
  const timed = () => {
    let now = 0;
    const due: Array<{ at: number; fn: () => void }> = [];
    const t = new Destruction([work], (fn, ms) => {
      const item = { at: now + ms, fn };
      due.push(item);
      return () => due.splice(due.indexOf(item), 1);
    });
    const confirmed: string[] = [];
    const del = (p: string, at: number) => {
      now = at;
      t.deleted(p, old, at, (cs) => confirmed.push(...cs.map((c) => c.path)));
    };
    const advance = (ms: number) => {
      now += ms;
      for (const d of due.filter((x) => x.at <= now)) {
        due.splice(due.indexOf(d), 1);
        d.fn();
      }
    };
    return { del, advance, confirmed };
  };

  /** A deleter flat out (a file every 0.3 ms): `del` deletes one, `gone` lists them in order. */
  const flatOut = () => {
    const m = timed();
    let at = 1000;
    const gone: string[] = [];
    const del = (d: string, name: string) => {
      gone.push(path.join(d, name));
      m.del(gone.at(-1)!, (at += 0.3));
    };
    return { m, del, gone };
  };

  test('a tree removed by a tool that deletes every file before any folder (Node fs.rm), stalling on the way: no verdict until it stops', () => {
    // Node's fs.rm unlinks every file of a tree and only then removes its folders; a busy machine
    // stalls it for tens of milliseconds now and then, longer than a paced deleter's gaps.
    const months = [1, 2, 3, 4].map((m) => folder(`export-rm/2019/M${m}`));
    const m = timed();
    let at = 1000;
    for (const d of months) for (let i = 0; i < 40; i++) m.del(path.join(d, `lab-${i}.csv`), (at += 0.3));
    m.advance(30); // a stall in the middle of the removal
    assert.deepEqual(m.confirmed, [], 'a stall is not the end of the removal');
    for (let i = 40; i < 45; i++) m.del(path.join(months[3], `lab-${i}.csv`), (at += 30.3));
    fs.rmSync(path.join(work, 'export-rm/2019'), { recursive: true }); // then its folders
    m.advance(1000);
    assert.deepEqual(m.confirmed, [], 'the folders went: a folder removed whole');
  });

  test('the same deletions, folders left standing: destroyed once the deletions stop', () => {
    const months = [1, 2, 3, 4].map((m) => folder(`export-left/2019/M${m}`));
    const m = timed();
    let at = 1000;
    for (const d of months) for (let i = 0; i < 40; i++) m.del(path.join(d, `lab-${i}.csv`), (at += 0.3));
    m.advance(1000);
    assert.equal(m.confirmed.length, 160);
  });

  test('a paced deleter (gaps of 25 ms) in one branch: destroyed at the first pause, as before', () => {
    const [d1, d2] = [folder('paced/Cardiology/P1'), folder('paced/Cardiology/P2')];
    const m = timed();
    const files = [path.join(d1, 'a.pdf'), path.join(d1, 'b.pdf'), path.join(d2, 'c.pdf')];
    files.forEach((p, i) => m.del(p, 1000 + 25 * i));
    m.advance(20);
    assert.deepEqual(m.confirmed, files);
  });

  test('a removal ended by a pause is over: a paced deleter after it is judged at its own first pause', () => {
    const old = folder('after-rm/Exports/2017');
    const m = timed();
    let at = 1000;
    for (let i = 0; i < 20; i++) m.del(path.join(old, `lab-${i}.csv`), (at += 0.3)); // a remover's streak, one folder
    fs.rmSync(old, { recursive: true });
    m.advance(1000);
    const [d1, d2] = [folder('after-rm/P1'), folder('after-rm/P2')];
    const files = [path.join(d1, 'a.pdf'), path.join(d1, 'b.pdf'), path.join(d2, 'c.pdf')];
    files.forEach((p, i) => m.del(p, at + 1000 + 25 * i));
    m.advance(20); // 20 ms after the third deletion
    assert.deepEqual(m.confirmed, files);
  });

  test('fast deletions spread over unrelated branches of the share: the verdict comes within its longest wait, pause or not', () => {
    const [a, b] = [folder('spread-a/P1'), folder('spread-b/P2')];
    const m = timed();
    let at = 1000;
    for (let i = 0; i < 700; i++) m.del(path.join(i < 200 ? a : b, `${i}.pdf`), (at += 0.3));
    // The second branch's deletions went on for 150 ms without a pause.
    assert.ok(m.confirmed.length > 200, 'the longest wait passed while they went on');
  });

  test('a wiper that emptied one top-level folder, its folders standing, and goes on in another: destroyed at once, no pause waited for', () => {
    const first = [folder('walk-a/P1'), folder('walk-a/P2')];
    const next = folder('walk-b/P3');
    const { m, del, gone } = flatOut();
    for (const d of first) for (let i = 0; i < 20; i++) del(d, `${i}.pdf`); // a remover's pace, one top-level folder
    assert.deepEqual(m.confirmed, [], 'inside one top-level folder it may still be a tree removal');
    del(next, 'a.pdf');
    assert.deepEqual(m.confirmed, [], 'one deletion elsewhere is no walk on');
    del(next, 'b.pdf');
    assert.deepEqual(m.confirmed, gone, 'at the second deletion in the next top-level folder, without time passing');
  });

  test('a wiper deleting in random order across the share: destroyed once its deletions lie in three top-level folders still standing, no pause waited for', () => {
    const dirs = [folder('rand-a/P1'), folder('rand-b/P2/Letters'), folder('rand-c/P3'), folder('rand-a/P4')];
    const { m, del, gone } = flatOut();
    del(dirs[0], 'a.pdf');
    del(dirs[1], 'b.pdf');
    del(dirs[3], 'c.pdf');
    del(dirs[1], 'd.pdf');
    assert.deepEqual(m.confirmed, [], 'two top-level folders: two removals at once look the same');
    del(dirs[2], 'e.pdf');
    assert.deepEqual(m.confirmed, gone, 'at the first deletion in a third, without time passing');
  });

  test('three top-level folders, one removed whole before the third is touched: two removals at once, no verdict without a pause', () => {
    const [a, b, c] = [folder('three-a/P1'), folder('three-b/P2'), folder('three-c/P3')];
    const m = timed();
    let at = 1000;
    for (let i = 0; i < 6; i++) m.del(path.join(i % 2 ? b : a, `${i}.pdf`), (at += 0.3));
    fs.rmSync(path.join(work, 'three-a'), { recursive: true });
    m.del(path.join(c, 'x.pdf'), (at += 0.3));
    m.del(path.join(b, 'y.pdf'), (at += 0.3));
    assert.deepEqual(m.confirmed, [], 'the first removal is over: its deletions no longer count');
    fs.rmSync(path.join(work, 'three-b'), { recursive: true });
    fs.rmSync(path.join(work, 'three-c'), { recursive: true });
    m.advance(6000);
    assert.deepEqual(m.confirmed, []);
  });

  test('rm -r of two top-level folders one after the other: the first gone with its folders before the second begins, no alarm', () => {
    const [a1, a2] = [folder('seq-a/P1'), folder('seq-a/P2')];
    const b = [folder('seq-b/P3'), folder('seq-b/P4')];
    const m = timed();
    let at = 1000;
    for (const d of [a1, a2]) for (let i = 0; i < 10; i++) m.del(path.join(d, `${i}.pdf`), (at += 0.3));
    fs.rmSync(path.join(work, 'seq-a'), { recursive: true });
    for (const d of b) for (let i = 0; i < 10; i++) m.del(path.join(d, `${i}.pdf`), (at += 0.3));
    fs.rmSync(path.join(work, 'seq-b'), { recursive: true });
    m.advance(6000);
    assert.deepEqual(m.confirmed, []);
  });

  test('two top-level folders removed at once (their deletions interleaved): judged only after a pause, by the folders left', () => {
    const a = [folder('both-a/P1'), folder('both-a/P2')];
    const b = [folder('both-b/P3'), folder('both-b/P4')];
    const m = timed();
    let at = 1000;
    for (let i = 0; i < 10; i++) for (const d of [a[i % 2], b[i % 2]]) m.del(path.join(d, `${i}.pdf`), (at += 0.3));
    assert.deepEqual(m.confirmed, [], 'not at once');
    fs.rmSync(path.join(work, 'both-a'), { recursive: true });
    fs.rmSync(path.join(work, 'both-b'), { recursive: true });
    m.advance(6000);
    assert.deepEqual(m.confirmed, []);
  });

  test('two folders emptied in turns (a remover working on both at once): not before one is seen left behind', () => {
    const [d1, d2] = [folder('turns/one'), folder('turns/two')];
    const m = manual();
    m.del(path.join(d1, 'a.pdf'), 1000);
    m.del(path.join(d2, 'b.pdf'), 1001);
    m.del(path.join(d1, 'c.pdf'), 1002);
    assert.equal(m.due.length, 0, 'neither folder was left: each still loses files');
    fs.rmSync(d1, { recursive: true });
    fs.rmSync(d2, { recursive: true });
    m.settle();
    assert.deepEqual(m.confirmed, []);
  });
});

describe('the burst', () => {
  test(`${BURST_FILES} files changed within a second is a burst; the same spread over seconds is not`, () => {
    const m = new BurstMeter();
    for (let i = 0; i < BURST_FILES; i++) m.saw(`/s/${i}`, 10_000 + i * 10);
    assert.equal(m.burst(10_000 + BURST_FILES * 10), BURST_FILES);
    const slow = new BurstMeter();
    for (let i = 0; i < BURST_FILES; i++) slow.saw(`/s/${i}`, 10_000 + i * 200);
    assert.equal(slow.burst(10_000 + BURST_FILES * 200), 0);
    const same = new BurstMeter();
    for (let i = 0; i < 100; i++) same.saw('/s/one-file', 10_000 + i);
    assert.equal(same.burst(10_100), 0, 'one file written in many pieces is one file');
  });
});

describe('judged without waiting: flat out, every event is judged as it comes', () => {
  test('a DOCX, an XLSX-like ZIP, a PDF, a JPEG and DICOM are fingerprinted without yielding to the event loop', async () => {
    for (const data of [await docx(rng, 30), pdf(rng, 2), jpeg(rng, 200), dicom(rng, 128)]) {
      let turned = false;
      const tick = setImmediate(() => (turned = true));
      const f = await fp(data);
      clearImmediate(tick);
      assert.equal(turned, false, `${f.kind}: the judgement waited for the event loop (other files' events went first)`);
    }
  });
});

let n = 0;
async function share(files: number): Promise<{ dir: string; alerts: string; base: string }> {
  const base = path.join(work, `case-${n++}`);
  fs.mkdirSync(base);
  const dir = path.join(base, 'share');
  await makeShare(dir, { files, seed: 320 + n });
  return { dir: fs.realpathSync(dir), alerts: path.join(base, 'alerts.ndjson'), base };
}

describe('guard watch: wipers caught', () => {
  const cases: Array<[string, RegExp]> = [
    ['truncate', /emptied/],
    ['zero-fill', /zeros/],
    ['constant-fill', /repeated byte/],
    ['random-fill', /format .* lost|text turned/],
    ['bulk-delete', /deleted/],
    ['shrink', /cut to/],
    ['keep-head', /structure broken|turned random|text turned/],
  ];
  for (const [behaviour, reason] of cases) {
    test(`${behaviour} at 40 files/s (8 files, no decoys) raises the alarm on the files it destroyed`, async () => {
      const s = await share(40);
      const log = path.join(s.base, 'destroyed.ndjson');
      const g = new Guard({ dirs: [s.dir], alertsFile: s.alerts });
      await g.start();
      await runBehaviour(behaviour, { dir: s.dir, pace: 40, seed: 1, limit: 8, log });
      await g.sync();
      await g.stop();
      const destroyed = fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { path: string }).path);
      assert.ok(g.alarms.length > 0, `${behaviour}: no alarm`);
      assert.match(g.alarms[0].reason, reason);
      for (const p of g.alarms[0].paths) assert.ok(destroyed.includes(p), `${p} was destroyed by the attack`);
    });
  }
});

describe('guard watch: deletions', () => {
  /** Two patients' letters and a lab export: folders unrelated to each other. */
  async function tree(): Promise<{ dir: string; alerts: string; files: string[] }> {
    const base = path.join(work, `del-case-${n++}`);
    const dir = path.join(base, 'share');
    const letters = path.join(dir, 'Patients', 'P1', 'Letters');
    const lab = path.join(dir, 'Lab');
    for (const d of [letters, lab]) fs.mkdirSync(d, { recursive: true });
    const files = [path.join(lab, 'export-1.csv'), path.join(lab, 'export-2.csv'), path.join(letters, 'letter-1.docx'), path.join(letters, 'letter-2.docx')];
    for (const f of files) fs.writeFileSync(f, f.endsWith('.csv') ? csv(rng, 200) : await docx(rng, 30));
    return {
      dir: fs.realpathSync(dir),
      alerts: path.join(base, 'alerts.ndjson'),
      files: files.map((f) => path.join(fs.realpathSync(dir), path.relative(dir, f))),
    };
  }

  test('three documents deleted one after another from two folders left standing: the alarm names them', async () => {
    const s = await tree();
    const g = new Guard({ dirs: [s.dir], alertsFile: s.alerts });
    await g.start();
    for (const f of s.files.slice(0, 3)) fs.unlinkSync(f);
    await g.sync();
    await g.stop();
    assert.equal(g.alarms.length, 1);
    assert.match(g.alarms[0].reason, /deleted/);
    assert.ok(g.alarms[0].paths.length >= 2);
    for (const p of g.alarms[0].paths) assert.ok(s.files.slice(0, 3).includes(p), `${p} was deleted`);
  });

  test('a decoy deleted right after it was planted (its planting event judged as a new file) raises the alarm', async () => {
    const s = await tree();
    const g = new Guard({ dirs: [s.dir], alertsFile: s.alerts, decoys: true });
    await g.start();
    const decoy = g.decoyPaths.find((p) => path.basename(p).startsWith('!'))!;
    fs.unlinkSync(decoy);
    await g.sync();
    await g.stop();
    assert.deepEqual(
      g.alarms.map((a) => a.reason),
      ['decoy file deleted or renamed'],
    );
  });

  test('the same folders removed whole, at once (fs.rm) or one after the other: no alarm', async () => {
    for (const together of [true, false]) {
      const s = await tree();
      const g = new Guard({ dirs: [s.dir], alertsFile: s.alerts });
      await g.start();
      const folders = [path.join(s.dir, 'Lab'), path.join(s.dir, 'Patients')];
      if (together) await Promise.all(folders.map((d) => fs.promises.rm(d, { recursive: true })));
      else for (const d of folders) fs.rmSync(d, { recursive: true });
      await g.sync();
      await g.stop();
      assert.deepEqual(
        g.alarms.map((a) => a.reason),
        [],
        together ? 'at once' : 'one after the other',
      );
    }
  });

  test('a user deleting documents in one folder, then in its parent: one branch, no alarm', async () => {
    const s = await tree();
    const sub = path.join(s.dir, 'Lab', '2019');
    fs.mkdirSync(sub);
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(sub, `old-${i}.csv`), csv(rng, 200));
    const g = new Guard({ dirs: [s.dir], alertsFile: s.alerts });
    await g.start();
    for (let i = 0; i < 3; i++) fs.unlinkSync(path.join(sub, `old-${i}.csv`));
    fs.unlinkSync(s.files[0]);
    fs.unlinkSync(path.join(sub, 'old-3.csv'));
    fs.unlinkSync(s.files[1]);
    await g.sync();
    await g.stop();
    assert.deepEqual(
      g.alarms.map((a) => a.reason),
      [],
    );
  });
});

describe("the guard's own work is no burst", () => {
  test('one document left empty right after the decoys were planted: pending, no alarm (planting is not a burst of the share)', async () => {
    const s = await share(40);
    const g = new Guard({ dirs: [s.dir], alertsFile: s.alerts, decoys: true });
    const started = await g.start();
    assert.ok(started.decoys >= 20, `enough decoys for a burst if they counted (${started.decoys})`);
    const letter = listTargets(s.dir, 'readdir', new Rng(1)).find((t) => t.path.endsWith('.docx') && !g.decoyPaths.includes(t.path))!;
    fs.truncateSync(letter.path, 0);
    await g.sync();
    await g.stop();
    assert.deepEqual(
      g.alarms.map((a) => a.reason),
      [],
    );
  });
});

describe('guard watch: housekeeping stays quiet', () => {
  for (const name of Object.keys(HOUSEKEEPING)) {
    // Deleting a folder with decoys in it is an alarm by design (docs/guard.md): that workload runs without.
    const decoys = name !== 'export-folder-delete' && name !== 'export-year-delete';
    test(`${name}${decoys ? ', with decoys planted,' : ''} raises no alarm`, async () => {
      const s = await share(40);
      const w = BENIGN[name];
      await w.prepare?.(s.dir, new Rng(5));
      const g = new Guard({ dirs: [s.dir], alertsFile: s.alerts, decoys });
      await g.start();
      assert.ok((await w.run(s.dir, new Rng(6))) > 0);
      await g.sync();
      await g.stop();
      assert.deepEqual(
        g.alarms.map((a) => a.reason),
        [],
      );
    });
  }
});
