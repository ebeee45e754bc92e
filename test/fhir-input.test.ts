/**
 * Bad input as an outside attack sent it (issue 23, finding 8): each gets a 400 OperationOutcome
 * that names where the problem is but never repeats what was sent, and nothing is stored. What
 * cannot be kept exactly (a 30-digit decimal, invalid UTF-8, a `__proto__` member) is refused, not
 * silently altered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { observation } from './helpers/fixtures.js';

let s: TestServer;
let token: string;
let patientId: string;
const MARKER = 'JOHN SMITH 1970-01-01';

before(async () => {
  s = await startTestServer();
  token = await s.login(['physician']);
  patientId = (
    await s.cw.fhir.create(SYSTEM, 'Patient', {
      resourceType: 'Patient',
      name: [{ family: 'Inputova' }],
      generalPractitioner: [{ reference: s.practitionerOf(token) }],
    })
  ).id;
});
after(() => s?.close());

/** Sends raw bytes as a FHIR body. */
async function send(method: string, path: string, body: string | Buffer): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

async function observationCount(): Promise<number> {
  return (await call(s.url, 'GET', `/fhir/Observation?patient=${patientId}&_summary=count`, { token })).body.total;
}

function assertRefused(res: { status: number; text: string; json: any }, what: string, secret = MARKER): void {
  assert.equal(res.status, 400, `${what}: ${res.text.slice(0, 300)}`);
  assert.equal(res.json?.resourceType, 'OperationOutcome', what);
  assert.ok(!res.text.includes(secret), `${what}: the answer repeats what was sent`);
}

const obs = () => observation(patientId) as Record<string, unknown>;

describe('bodies that cannot be kept exactly are refused, and nothing is stored', () => {
  test('JSON nested 2,500 levels deep', async () => {
    const before = await observationCount();
    // Extensions within extensions: every level is valid FHIR, only the depth is not.
    let ext = `{"url":"http://x.example/e","valueString":"${MARKER}"}`;
    for (let i = 0; i < 2500; i++) ext = `{"url":"http://x.example/e","extension":[${ext}]}`;
    const deep = JSON.stringify(obs()).replace('{', `{"extension":[${ext}],`);
    assertRefused(await send('POST', '/fhir/Observation', deep), 'deep nesting');
    assertRefused(await send('POST', '/fhir/Observation', '['.repeat(100_000)), 'unterminated deep nesting');
    assert.equal(await observationCount(), before);
  });

  test('__proto__, constructor and prototype members, at any depth', async () => {
    const before = await observationCount();
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const top = JSON.stringify(obs()).replace('{', `{"${name}":{"note":"${MARKER}"},`);
      assertRefused(await send('POST', '/fhir/Observation', top), `${name} at the top`);
      const nested = JSON.stringify(obs()).replace('"code":{', `"code":{"${name}":{"x":"${MARKER}"},`);
      assertRefused(await send('POST', '/fhir/Observation', nested), `${name} nested`);
    }
    assert.equal(await observationCount(), before);
  });

  test('a member given twice', async () => {
    const twice = JSON.stringify(obs()).replace('"status":"final"', `"status":"final","status":"preliminary"`);
    assertRefused(await send('POST', '/fhir/Observation', twice), 'duplicate member');
  });

  test('invalid UTF-8 and unpaired surrogates', async () => {
    const before = await observationCount();
    const text = JSON.stringify({ ...obs(), note: [{ text: 'AAAA' }] });
    const bytes = Buffer.from(text, 'utf8');
    const at = bytes.indexOf('AAAA');
    for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80]]) {
      const body = Buffer.concat([bytes.subarray(0, at), Buffer.from(bad), bytes.subarray(at + 1)]);
      assertRefused(await send('POST', '/fhir/Observation', body), `bytes ${bad.map((b) => b.toString(16)).join(' ')}`);
    }
    assertRefused(await send('POST', '/fhir/Observation', text.replace('AAAA', '\\ud800AAA')), 'a lone surrogate escape');
    assert.equal(await observationCount(), before);
  });

  test('a decimal a double cannot hold is refused; ordinary ones are kept exactly', async () => {
    const before = await observationCount();
    const text = (value: string) => JSON.stringify(obs()).replace('"value":72', `"value":${value}`);
    for (const v of ['123456789012345678901234567890', '0.123456789012345678901234567890', '1e400']) {
      assertRefused(await send('POST', '/fhir/Observation', text(v)), v, v);
    }
    assert.equal(await observationCount(), before);
    for (const v of ['98.6', '1.5', '120', '0.001', '-3.25']) {
      const made = await send('POST', '/fhir/Observation', text(v));
      assert.equal(made.status, 201, `${v}: ${made.text.slice(0, 200)}`);
      const back = await fetch(`${s.url}/fhir/Observation/${made.json.id}`, { headers: { authorization: `Bearer ${token}` } });
      assert.match(await back.text(), new RegExp(`"value":${v.replace('.', '\\.')}[,}]`), v);
    }
  });

  test('an unknown element is named by where it is, not by its name', async () => {
    const res = await send('POST', '/fhir/Observation', JSON.stringify({ ...obs(), [MARKER]: 1 }));
    assertRefused(res, 'additional property');
    assert.match(res.text, /Observation/);
  });

  test('/api bodies get the same reader', async () => {
    const res = await fetch(`${s.url}/api/break-glass`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: `{"patient":"Patient/${patientId}","reason":"emergency-treatment","justification":"unconscious, brought in by ambulance","__proto__":{"note":"${MARKER}"}}`,
    });
    assert.equal(res.status, 400);
    assert.ok(!(await res.text()).includes(MARKER));
  });
});

describe('search controls out of range answer 400, never 500', () => {
  const search = (query: string) => call(s.url, 'GET', `/fhir/Observation?${query}`, { token });
  const controls = [
    '_count=-1',
    '_offset=1e30',
    '_offset=-5',
    '_count=1.5',
    `_since=${encodeURIComponent('99999-01-01T00:00:00Z')}`,
    `_since=${encodeURIComponent('9999-12-31T23:59:59Z')}`,
    '_since=yesterday',
  ];
  for (const path of ['/fhir/Observation?', '/fhir/Observation/_history?', `/fhir/Patient/${'PATIENT'}/_history?`]) {
    test(`${path} ${controls.join(' ')}`, async () => {
      for (const query of controls) {
        if (path === '/fhir/Observation?' && query.startsWith('_since')) continue; // not a search parameter
        const res = await call(s.url, 'GET', path.replace('PATIENT', patientId) + query, { token });
        assert.ok(
          res.status === 400 || (res.status === 200 && query === `_since=${encodeURIComponent('9999-12-31T23:59:59Z')}`),
          `${path}${query}: ${res.status}`,
        );
        if (res.status === 400) assert.equal(res.body.resourceType, 'OperationOutcome');
      }
    });
  }

  test('extreme dates are answered, not failed', async () => {
    for (const q of ['date=gt9999-12-31T23:59:59Z', 'date=lt0001-01-01', '_lastUpdated=gt9999-12-31T23:59:59.999Z', 'date=ge9999-12-31']) {
      const res = await search(q);
      assert.ok(res.status === 200 || res.status === 400, `${q}: ${res.status}`);
      if (res.status === 200) assert.equal(res.body.total, 0, q);
      else assert.equal(res.body.resourceType, 'OperationOutcome');
    }
    for (const path of [
      `/fhir/Observation/_history?_since=${encodeURIComponent('9999-12-31T23:59:59Z')}`,
      `/fhir/Observation/_history?_since=0000-01-01`,
      `/fhir/$export?_since=99999-01-01`,
    ]) {
      const res = await call(s.url, 'GET', path, { token });
      assert.ok(res.status < 500, `${path}: ${res.status}`);
    }
  });

  test('records dated at the edges of the years FHIR allows are stored and found', async () => {
    for (const when of ['9999-12-31T23:59:59Z', '9999', '0001-01-01']) {
      const made = await send('POST', '/fhir/Observation', JSON.stringify({ ...obs(), effectiveDateTime: when }));
      assert.equal(made.status, 201, `${when}: ${made.text.slice(0, 200)}`);
      const found = await search(`patient=${patientId}&date=${encodeURIComponent(when)}`);
      assert.equal(found.status, 200);
      assert.ok(
        found.body.entry.some((e: { resource: { id: string } }) => e.resource.id === made.json.id),
        when,
      );
    }
  });

  test("parameters named like Object.prototype's members are parameters like any other", async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const answers = [
        await call(s.url, 'GET', `/fhir/Patient?${name}=x`, { token }),
        await call(s.url, 'GET', `/fhir/Patient/_history?${name}=x`, { token }),
        await call(s.url, 'POST', '/fhir/Patient/_search', { token, raw: `${name}=x`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        await call(s.url, 'PUT', `/fhir/Patient?${name}=x`, { token, body: { resourceType: 'Patient', name: [{ family: 'Protoson' }] } }),
        await call(s.url, 'POST', '/fhir/Patient', {
          token,
          body: { resourceType: 'Patient', name: [{ family: 'Protoson' }] },
          headers: { 'if-none-exist': `${name}=1` },
        }),
      ];
      // An unknown parameter on a search is refused (400); history ignores what it does not read.
      assert.deepEqual(
        answers.map((a) => a.status),
        [400, 200, 400, 400, 400],
        name,
      );
    }
  });

  test('an unknown parameter or modifier is named by its position, not its text', async () => {
    const res = await search(`status=final&${encodeURIComponent(MARKER)}=1`);
    assert.equal(res.status, 400);
    assert.ok(!JSON.stringify(res.body).includes(MARKER));
    assert.match(JSON.stringify(res.body), /2/);
    const mod = await search(`code:${encodeURIComponent(MARKER)}=1`);
    assert.equal(mod.status, 400);
    assert.ok(!JSON.stringify(mod.body).includes(MARKER));
  });
});
