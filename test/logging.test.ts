/** Logs carry no patient data: not from queries, bodies, errors or failed logins. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { buildServer } from '../src/http/server.js';
import { createLogger } from '../src/log.js';
import { openCarewall } from '../src/runtime.js';
import { call, prepareInstallation, PASSWORD } from './helpers/harness.js';
import { patient } from './helpers/fixtures.js';

test('request, error and login logs hold no names, identifiers, birth dates or passwords', async () => {
  const inst = await prepareInstallation();
  let logged = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      logged += chunk.toString();
      done();
    },
  });
  const cw = await openCarewall(inst.settings, createLogger('debug', sink));
  const app = await buildServer(cw);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  try {
    await cw.identity.createAccount({ username: 'log-doc', password: PASSWORD, roles: ['physician'] });
    const token = (
      await call(url, 'POST', '/api/session', { body: { username: 'log-doc', password: PASSWORD }, headers: { 'content-type': 'application/json' } })
    ).body.token;
    const p = await call(url, 'POST', '/fhir/Patient', {
      token,
      body: patient('Loggable', 'Secretgiven', { identifier: [{ system: 'urn:mrn', value: 'MRN-LOGCHECK-77' }] }),
    });
    assert.equal(p.status, 201);
    await call(url, 'GET', '/fhir/Patient?family=Loggable&identifier=MRN-LOGCHECK-77&birthdate=1961-04-23', { token });
    await call(url, 'POST', '/fhir/Patient', { token, body: { resourceType: 'Patient', name: 'Loggable Secretgiven' } });
    await call(url, 'POST', '/fhir/Patient', { token, raw: '{"name": "Loggable' });
    await call(url, 'POST', '/api/session', {
      body: { username: 'log-doc', password: 'Loggable-wrong-password' },
      headers: { 'content-type': 'application/json' },
    });
    await call(url, 'GET', '/fhir/Patient?family=Loggable&unknownparam=MRN-LOGCHECK-77', { token });
    // Positive control: requests are logged at all, with their paths.
    assert.match(logged, /"path":"\/fhir\/Patient"/);
    for (const secret of ['Loggable', 'Secretgiven', 'MRN-LOGCHECK-77', '1961-04-23', PASSWORD, token]) {
      assert.ok(!logged.includes(secret), `log contains ${secret}`);
    }
  } finally {
    await app.close();
    await cw.close();
    await inst.cleanup();
  }
});
