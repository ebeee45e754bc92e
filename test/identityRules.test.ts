/** Identity's pure rules, without a database: lock-out arithmetic, input checks, TOTP matching. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOTP } from 'otpauth';
import { lockSeconds } from '../src/identity/lockout.js';
import { checkPractitioner, checkRoles, checkValidUntil, normaliseUsername } from '../src/identity/input.js';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../src/identity/passwords.js';
import { matchTotp, newTotpSecret, rolesRequireTotp, totpUri } from '../src/identity/totp.js';
import { InvalidInputError } from '../src/identity/errors.js';

test('lock duration doubles from the threshold and is capped at an hour', () => {
  const policy = { threshold: 5, baseMinutes: 1 };
  assert.deepEqual(
    [4, 5, 6, 7, 8].map((n) => lockSeconds(n, policy)),
    [0, 60, 120, 240, 480],
  );
  assert.equal(lockSeconds(12, policy), 3600);
  assert.equal(lockSeconds(1000, policy), 3600);
});

test('usernames', () => {
  assert.equal(normaliseUsername('Alice.Smith@clinic-1_x'), 'alice.smith@clinic-1_x');
  for (const bad of ['', 'a b', 'x'.repeat(65), 'é', 'a/b', 5, null]) assert.throws(() => normaliseUsername(bad), InvalidInputError);
  assert.equal(normaliseUsername('x'.repeat(64)).length, 64);
});

test('roles, practitioner and end date', () => {
  assert.deepEqual(checkRoles(['nurse', 'nurse', 'lab']), ['nurse', 'lab']);
  assert.throws(() => checkRoles(['nurse', 'root']), /roles: the 2nd is not a known role; the roles are physician, nurse, /);
  assert.throws(
    () => checkRoles(['<script>']),
    (err: Error) => !err.message.includes('<script>') && /the 1st is not a known role/.test(err.message),
    'names the position, never the value',
  );
  assert.throws(() => checkRoles([]), InvalidInputError);
  assert.equal(checkPractitioner('Practitioner/a.b-1'), 'Practitioner/a.b-1');
  assert.equal(checkPractitioner(null), undefined);
  assert.throws(() => checkPractitioner('Practitioner/'), InvalidInputError);
  assert.throws(() => checkPractitioner('Patient/1'), InvalidInputError);
  assert.equal(checkValidUntil('2030-01-02')?.toISOString(), '2030-01-02T00:00:00.000Z');
  assert.throws(() => checkValidUntil('5'), InvalidInputError);
  assert.throws(() => checkValidUntil('2030-13-45'), InvalidInputError);
});

test('password policy and hashing', async () => {
  assert.throws(() => checkPasswordPolicy('123456789'), /at least 10/);
  assert.equal(checkPasswordPolicy('1234567890'), '1234567890');
  assert.throws(() => checkPasswordPolicy('x'.repeat(1025)), /at most 1024/);
  assert.throws(() => checkPasswordPolicy(undefined), InvalidInputError);
  const hash = await hashPassword('caf\u00e9 latte please');
  assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  // The decomposed form of the same text is the same password.
  assert.equal(await verifyPassword(hash, 'cafe\u0301 latte please'), true);
  assert.equal(await verifyPassword(hash, 'cafe latte please'), false);
  assert.equal(await verifyPassword('not a hash', 'anything at all'), false);
});

test('TOTP matching returns the step, within one step either side', () => {
  const secret = newTotpSecret();
  const uri = totpUri(secret, 'alice');
  const totp = new TOTP({ secret: new URL(uri).searchParams.get('secret')! });
  const now = Date.now();
  const step = TOTP.counter({ timestamp: now });
  assert.equal(matchTotp(secret, totp.generate({ timestamp: now }), now), step);
  assert.equal(matchTotp(secret, totp.generate({ timestamp: now - 30_000 }), now), step - 1);
  assert.equal(matchTotp(secret, totp.generate({ timestamp: now + 30_000 }), now), step + 1);
  assert.equal(matchTotp(secret, totp.generate({ timestamp: now - 90_000 }), now), null);
  assert.equal(matchTotp(secret, 'abcdef', now), null);
  assert.equal(matchTotp(secret, '', now), null);
  assert.equal(rolesRequireTotp(['nurse', 'admin']), true);
  assert.equal(rolesRequireTotp(['nurse', 'physician']), false);
});
