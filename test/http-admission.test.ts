/**
 * A stranger cannot make the server hold their bodies (issue 23, finding 7): an attack opened many
 * connections, sent most of an 8 MB body each without signing in, and stalled. Each test talks raw
 * HTTP over a socket, as the attacker did, and stops sending before the body is complete.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { PUBLIC_BODY_LIMIT, PUBLIC_IN_FLIGHT_PER_ADDRESS } from '../src/http/admission.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

let s: TestServer;
let port: number;
const sockets: net.Socket[] = [];

before(async () => {
  s = await startTestServer({ requestTimeoutSeconds: 2 });
  port = Number(new URL(s.url).port);
});

after(async () => {
  for (const sock of sockets) sock.destroy();
  await s?.close();
});

/**
 * Opens a connection, sends the request head and `sent` bytes of a body announced as `length`, and
 * resolves with what the server answers (its status line), or 'closed' when it closes without one.
 * Waits for the server's move, never for a fixed time: the test's own timeout ends a hang.
 */
function stall(
  method: string,
  path: string,
  length: number,
  sent: number,
  headers: Record<string, string> = {},
): { answer: Promise<string>; socket: net.Socket } {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  const head = [
    `${method} ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Content-Type: application/json',
    `Content-Length: ${length}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ].join('\r\n');
  socket.write(head);
  if (sent > 0) socket.write(Buffer.alloc(sent, 0x20));
  const answer = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
      const line = text.split('\r\n')[0];
      if (text.includes('\r\n')) resolve(line);
    });
    socket.on('close', () => resolve(text.split('\r\n')[0] || 'closed'));
    socket.on('error', () => resolve('closed'));
  });
  return { answer, socket };
}

test('a large body without a sign-in is refused at once, before it has been sent', { timeout: 20_000 }, async () => {
  const almost = Math.floor(7.9 * 1024 * 1024);
  for (const path of ['/fhir/Observation', '/fhir', '/api/users', '/api/break-glass']) {
    const { answer } = stall('POST', path, almost, 64 * 1024);
    assert.match(await answer, /^HTTP\/1\.1 401 /, path);
  }
});

test('an invalid token is no sign-in: refused before the body too', { timeout: 20_000 }, async () => {
  const { answer } = stall('PUT', '/fhir/Patient/x', 4 * 1024 * 1024, 1024, { Authorization: 'Bearer not-a-token' });
  assert.match(await answer, /^HTTP\/1\.1 401 /);
});

test('signing in takes a small body only', { timeout: 20_000 }, async () => {
  const { answer } = stall('POST', '/api/session', PUBLIC_BODY_LIMIT * 4, 0);
  assert.match(await answer, /^HTTP\/1\.1 413 /);
  const token = stall('POST', '/auth/token', 7 * 1024 * 1024, 0);
  assert.match(await token.answer, /^HTTP\/1\.1 413 /);
});

test('one address may have only a few sign-ins in flight; once they end, it signs in again', { timeout: 30_000 }, async () => {
  const over = 3;
  const attempts = Array.from({ length: PUBLIC_IN_FLIGHT_PER_ADDRESS + over }, () => stall('POST', '/api/session', 200, 10));
  // Those beyond the limit are refused at once, the others held until the request timeout cuts them off.
  const answers = await Promise.all(attempts.map((a) => a.answer));
  assert.equal(answers.filter((a) => /^HTTP\/1\.1 429 /.test(a)).length, over, answers.join(' | '));
  assert.equal(answers.filter((a) => /^HTTP\/1\.1 408 |^closed$/.test(a)).length, PUBLIC_IN_FLIGHT_PER_ADDRESS, answers.join(' | '));
  const res = await call(s.url, 'POST', '/api/session', {
    body: { username: 'nobody-here', password: 'wrong password here' },
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.status, 401);
});

test('a signed-in caller who stalls a body is cut off by the request timeout', { timeout: 30_000 }, async () => {
  const token = await s.login(['physician']);
  const { answer } = stall('POST', '/fhir/Observation', 1024 * 1024, 1024, { Authorization: `Bearer ${token}` });
  assert.match(await answer, /^HTTP\/1\.1 408 |^closed$/);
});
