/**
 * Team and ward assignments (PractitionerRole) that cannot be made by accident: the same current
 * assignment is refused the second time, and nobody whose accounts are all disabled is assigned;
 * an ended assignment may be made again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import { call, PASSWORD, startTestServer, type TestServer } from './helpers/harness.js';

describe('team and ward assignments', () => {
  let s: TestServer;
  let admin: string;
  let team = '';
  let ward = '';
  const practitioner = async (username: string) => {
    const p = await s.cw.fhir.create(SYSTEM, 'Practitioner', { resourceType: 'Practitioner', name: [{ family: username }] });
    await s.cw.identity.createAccount({ username, password: PASSWORD, roles: ['nurse'], practitioner: `Practitioner/${p.id}` });
    return `Practitioner/${p.id}`;
  };
  const assign = (who: string, location = ward) =>
    call(s.url, 'POST', '/fhir/PractitionerRole', {
      token: admin,
      body: {
        resourceType: 'PractitionerRole',
        active: true,
        practitioner: { reference: who },
        organization: { reference: team },
        location: [{ reference: location }],
      },
    });

  before(async () => {
    s = await startTestServer();
    admin = await s.login(['admin'], 'admin-assign');
    team = `Organization/${(await s.cw.fhir.create(SYSTEM, 'Organization', { resourceType: 'Organization', name: 'Cardiology' } as never)).id}`;
    ward = `Location/${(await s.cw.fhir.create(SYSTEM, 'Location', { resourceType: 'Location', name: 'Ward 2' } as never)).id}`;
  });
  after(() => s?.close());

  test('the same assignment twice is refused with a clear error; another ward is not the same', async () => {
    const nurse = await practitioner('rn-twice');
    const first = await assign(nurse);
    assert.equal(first.status, 201);
    const again = await assign(nurse);
    assert.equal(again.status, 409);
    assert.match(JSON.stringify(again.body), /already has this team and ward assignment/);
    const otherWard = `Location/${(await s.cw.fhir.create(SYSTEM, 'Location', { resourceType: 'Location', name: 'Ward 5' } as never)).id}`;
    assert.equal((await assign(nurse, otherWard)).status, 201);
    // Ended, it may be made again.
    const ended = { ...first.body, active: false, period: { end: '2020-01-01' } };
    assert.equal((await call(s.url, 'PUT', `/fhir/PractitionerRole/${first.body.id}`, { token: admin, body: ended })).status, 200);
    assert.equal((await assign(nurse)).status, 201);
  });

  test('staff whose account is disabled are not assigned', async () => {
    const nurse = await practitioner('rn-gone');
    await s.cw.identity.disableAccount('rn-gone');
    const r = await assign(nurse);
    assert.equal(r.status, 409);
    assert.match(JSON.stringify(r.body), /account is disabled/);
    await s.cw.identity.enableAccount('rn-gone');
    assert.equal((await assign(nurse)).status, 201);
  });
});
