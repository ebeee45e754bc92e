/**
 * The posture scorecard through the server (issue 27): the contract's shape, who may read it, a
 * measured item following the clinic's real state (a leaver's account still open), attestations
 * with an evidence file and their expiry, and snapshots whose hashes are in the audit log.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeLeaf } from '../src/audit/index.js';
import { SYSTEM } from '../src/shared/index.js';
import { runCli } from './helpers/cli.js';
import { call, prepareInstallation, startTestServer, tempDir, type TestServer } from './helpers/harness.js';

describe('the posture scorecard', () => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  const as = (u: string, method: string, url: string, body?: unknown) =>
    call(s.url, method, url, { token: tokens[u], ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }) });
  const item = (card: { practices: Array<{ items: Array<{ id: string }> }> }, id: string) =>
    card.practices.flatMap((p) => p.items).find((i) => i.id === id) as {
      id: string;
      status: string;
      source: string;
      evidence: Array<{ kind: string; text: string }>;
      next?: string;
    };

  before(async () => {
    s = await startTestServer();
    tokens.admin = await s.login(['admin'], 'admin-ann');
    tokens.privacy = await s.login(['privacy-officer'], 'privacy-pia');
    tokens.nurse = await s.login(['nurse'], 'nurse-ned');
  });
  after(async () => s?.close());

  test('the scorecard: ten practices in the document’s order, five threats, a plain summary; for management only', async () => {
    assert.equal((await as('nurse', 'GET', '/api/posture')).status, 403);
    const r = await as('privacy', 'GET', '/api/posture');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.practices.map((p: { id: string }) => p.id),
      Array.from({ length: 10 }, (_, i) => `hicp-${i + 1}`),
    );
    assert.equal(r.body.threats.length, 5);
    for (const t of r.body.threats) assert.ok(t.score >= 0 && t.score <= 1);
    assert.match(r.body.summary.text, /^\d+ of 10 practices in place/);
    // Nothing measured is taken on trust: a practice Carewall cannot see is missing until attested.
    const network = item(r.body, 'hicp-6.s.a');
    assert.equal(network.status, 'missing');
    assert.equal(network.source, 'attested');
    assert.ok(network.next);
  });

  test('a leaver whose account is still open makes the identity item missing, with the figures', async () => {
    const leaver = await s.login(['nurse'], 'nurse-left');
    const ref = s.practitionerOf(leaver).split('/')[1];
    const before = item((await as('admin', 'POST', '/api/posture/refresh')).body, 'hicp-3.s.a');
    assert.ok(!before.evidence.some((e) => e.kind === 'identity.departed-staff' && /\b1 active account/.test(e.text)));
    await s.cw.fhir.update(SYSTEM, 'Practitioner', ref, { resourceType: 'Practitioner', id: ref, active: false, name: [{ family: 'Left' }] });
    const after = item((await as('admin', 'POST', '/api/posture/refresh')).body, 'hicp-3.s.a');
    assert.equal(after.source, 'measured');
    assert.notEqual(after.status, 'compliant');
    assert.ok(
      after.evidence.some((e) => e.kind === 'identity.departed-staff' && /1 active account\(s\) of staff whose practitioner record is inactive/.test(e.text)),
    );
    assert.match(after.next ?? '', /Disable|second factor|Review/);
  });

  test('an attestation with its evidence file counts until its review date; then it counts as missing', async () => {
    const evidence = Buffer.from('%PDF-1.4 network diagram v3, firewall rules reviewed with the ISP');
    const refused = await as('admin', 'POST', '/api/posture/attestations', {
      item: 'hicp-6.s.a',
      status: 'compliant',
      note: 'too short',
      expiresAt: '2027-06-01',
    });
    assert.equal(refused.status, 400);
    const bad = await as('admin', 'POST', '/api/posture/attestations', {
      item: 'no-such-item',
      status: 'compliant',
      note: 'segmentation checked with the ISP',
      expiresAt: '2027-06-01',
    });
    assert.equal(bad.status, 400);
    const r = await as('admin', 'POST', '/api/posture/attestations', {
      item: 'hicp-6.s.a',
      status: 'compliant',
      note: 'Guest Wi-Fi and equipment VLAN checked with the ISP',
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      evidence: { name: 'network.pdf', base64: evidence.toString('base64') },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.owner, 'admin-ann');
    assert.equal(r.body.evidenceSha256, crypto.createHash('sha256').update(evidence).digest('hex'));
    const now = item((await as('admin', 'POST', '/api/posture/refresh')).body, 'hicp-6.s.a');
    assert.deepEqual([now.status, now.source], ['compliant', 'attested']);
    // Forty days on, the review date has passed.
    const later = await s.cw.posture.measure(new Date(Date.now() + 40 * 86_400_000));
    const expired = item(later, 'hicp-6.s.a');
    assert.equal(expired.status, 'missing');
    assert.match(expired.evidence[0].text, /expired/);
    // The evidence file comes back as it was given, to management only, and the reading is audited.
    const file = await fetch(`${s.url}/api/posture/attestations/hicp-6.s.a/evidence`, { headers: { authorization: `Bearer ${tokens.privacy}` } });
    assert.equal(file.status, 200);
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), evidence);
    assert.match(file.headers.get('content-disposition') ?? '', /filename="network\.pdf"/);
    assert.equal((await as('nurse', 'GET', '/api/posture/attestations/hicp-6.s.a/evidence')).status, 403);
    assert.equal((await as('admin', 'GET', '/api/posture/attestations/hicp-1.s.a/evidence')).status, 404);
    // The evidence file is kept sealed, never in the clear.
    const stored = await s.cw.db.query<{ t: string }>(`select string_agg(x::text, ' ') as t from posture_attestation x`);
    assert.ok(!stored.rows[0].t.includes('firewall rules reviewed'));
  });

  test('every snapshot is kept, and its hash is in the audit log: the trend cannot be rewritten unseen', async () => {
    const history = (await as('privacy', 'GET', '/api/posture/history')).body as Array<{ at: string; inPlace: number; total: number; sha256: string }>;
    assert.ok(history.length >= 4);
    // What the audit log says each snapshot's hash was, against what the snapshots table now holds.
    const recorded = new Set(
      (await s.cw.audit.log.leaves(0, (await s.cw.audit.log.head()).size))
        .map((l) => decodeLeaf(l.leaf))
        .filter((r) => r.action === 'posture.snapshot')
        .map((r) => String((r.explanation as Record<string, unknown>)?.sha256)),
    );
    for (const h of history) assert.ok(recorded.has(h.sha256), `snapshot ${h.at} is in the audit log`);
    // Rewriting a snapshot afterwards: its content no longer matches the hash the log holds.
    const [first] = (await s.cw.db.query<{ card: unknown; sha256: string }>('select card, sha256 from posture_snapshot order by taken_at limit 1')).rows;
    const rewritten = { ...(first.card as object), summary: { inPlace: 10, total: 10, text: '10 of 10 practices in place' } };
    assert.ok(!recorded.has(crypto.createHash('sha256').update(JSON.stringify(rewritten)).digest('hex')));
    const next = await as('admin', 'GET', '/api/posture/next');
    assert.equal(next.status, 200);
    assert.ok(next.body.length > 0 && next.body.every((n: { next: string }) => n.next.length > 0));
  });
});

describe('the posture scorecard measures the running clinic', () => {
  let s: TestServer;
  before(async () => {
    // The clinic's own network is 10.99/16: this test's sign-ins from 127.0.0.1 come from outside it.
    s = await startTestServer({ posture: { size: 'medium', clinicNetworks: ['10.99.0.0/16'], keyRotationDays: 30 } } as never);
  });
  after(async () => s?.close());
  const evidence = (card: { practices: Array<{ items: Array<{ id: string; evidence: Array<{ kind: string; text: string }> }> }> }, kind: string) =>
    card.practices.flatMap((p) => p.items.flatMap((i) => i.evidence)).find((e) => e.kind === kind)?.text ?? '';

  test('a remote sign-in without a second factor, the audit log verified, the master key protected', async () => {
    const admin = await s.login(['admin'], 'admin-ida');
    const refresh = async () => (await call(s.url, 'POST', '/api/posture/refresh', { token: admin })).body;
    let card = await refresh();
    assert.match(evidence(card, 'audit.verified'), /never been verified/);
    assert.match(evidence(card, 'keys.encryption-at-rest'), /private key file; the current key is 0 day\(s\) old \(rotate every 30\)/);
    // The administrator has a second factor; a nurse signing in from outside has none.
    assert.match(evidence(card, 'identity.remote-second-factor'), /All 1 account\(s\) that signed in from outside/);
    await s.login(['nurse'], 'nurse-home');
    // The console's verify button (the security administrator's): its outcome goes into the log, and the scorecard reads it there.
    const security = await s.login(['security-admin'], 'security-sam');
    const verified = await call(s.url, 'POST', '/api/audit/verify', { token: security });
    assert.equal(verified.body.ok, true, JSON.stringify(verified.body));
    card = await refresh();
    assert.match(
      evidence(card, 'identity.remote-second-factor'),
      /1 of 3 account\(s\) that signed in from outside the clinic in the last 30 days have no second factor/,
    );
    assert.match(evidence(card, 'audit.verified'), /The last full verification, 0 day\(s\) ago, held/);
    // Sixty days on, the key is past its rotation period.
    const later = await s.cw.posture.measure(new Date(Date.now() + 60 * 86_400_000));
    assert.match(evidence(later, 'keys.encryption-at-rest'), /60 day\(s\) old/);
  });
});

describe('carewall posture report', () => {
  test('writes the board report (a PDF) and the JSON export from a data folder; show prints the summary', async () => {
    const inst = await prepareInstallation();
    try {
      const env = { DATABASE_URL: inst.databaseUrl };
      const dir = tempDir();
      const r = await runCli(
        ['posture', 'report', '--data-dir', inst.dataDir, '--out', path.join(dir, 'board.pdf'), '--json', path.join(dir, 'board.json'), '--clinic', 'St Test'],
        { env },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /board report written to .*: \d+ of 10 practices in place/);
      assert.equal(fs.readFileSync(path.join(dir, 'board.pdf')).subarray(0, 5).toString(), '%PDF-');
      const exported = JSON.parse(fs.readFileSync(path.join(dir, 'board.json'), 'utf8'));
      assert.equal(exported.format, 'carewall.posture-scorecard');
      assert.equal(exported.scorecard.practices.length, 10);
      const shown = await runCli(['posture', 'show', '--data-dir', inst.dataDir, '--json'], { env });
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(JSON.parse(shown.stdout).practices[0].id, 'hicp-1');
    } finally {
      await inst.cleanup();
    }
  });
});
