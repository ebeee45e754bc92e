/**
 * Which database failures mean "the database is away" (503, try again) and which do not (src/db/errors.ts),
 * on made-up errors of every kind and on real ones from the driver.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { openDatabase } from '../src/db/database.js';
import { classifyDatabaseError, DatabaseUnavailableError, fromDatabaseAway, isConnectionFailure } from '../src/db/errors.js';
import { openPostgres } from '../src/db/postgres.js';
import { retryWhileAway } from '../src/db/retry.js';
import { tempDir } from './helpers/tempDir.js';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('connection failures are told apart from statement errors', () => {
  for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']) {
    test(`socket error ${code}: unavailable`, () => assert.equal(isConnectionFailure(withCode(code)), true));
  }
  for (const [code, what] of [
    ['08000', 'connection_exception'],
    ['08001', 'unable to connect'],
    ['08006', 'connection_failure'],
    ['08P01', 'protocol_violation'],
    ['57P01', 'admin_shutdown'],
    ['57P02', 'crash_shutdown'],
    ['57P03', 'cannot_connect_now'],
  ]) {
    test(`SQLSTATE ${code} (${what}): unavailable`, () => assert.equal(isConnectionFailure(withCode(code)), true));
  }
  for (const [code, what] of [
    ['23505', 'unique_violation'],
    ['42P01', 'undefined_table'],
    ['40001', 'serialization_failure'],
    ['57014', 'query_canceled'],
    ['22P02', 'invalid_text_representation'],
  ]) {
    test(`SQLSTATE ${code} (${what}): not unavailable`, () => assert.equal(isConnectionFailure(withCode(code)), false));
  }
  for (const message of [
    'Connection terminated unexpectedly',
    'Connection terminated',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Client has encountered a connection error and is not queryable',
  ]) {
    test(`driver error "${message}": unavailable`, () => assert.equal(isConnectionFailure(new Error(message)), true));
  }

  test("a statement's error quoting the driver's words is still the statement's", () => {
    // The value a statement refused can be anything, including these words: the SQLSTATE decides.
    assert.equal(isConnectionFailure(withCode('22P02', 'invalid input syntax for type integer: "Connection terminated"')), false);
  });

  test('an AggregateError (one failure per address) is unavailable only if every address failed to connect', () => {
    assert.equal(isConnectionFailure(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')])), true);
    assert.equal(isConnectionFailure(new AggregateError([withCode('ECONNREFUSED'), new TypeError('bug')])), false);
  });

  test('nothing else is: plain errors, non-errors', () => {
    for (const e of [new Error('boom'), new TypeError('x is undefined'), undefined, null, 'ECONNRESET', 42]) assert.equal(isConnectionFailure(e), false);
  });
});

describe('classifyDatabaseError', () => {
  test('turns a connection failure into DatabaseUnavailableError, keeping the original as cause and none of its text', () => {
    const original = withCode('57P01', 'terminating connection due to administrator command; value Secretvalue');
    const e = classifyDatabaseError(original);
    assert.ok(e instanceof DatabaseUnavailableError);
    assert.equal(e.cause, original);
    assert.doesNotMatch(e.message, /Secretvalue|administrator/);
    assert.match(e.message, /57P01/);
  });

  test('leaves every other error as it is, and an unavailable one unwrapped twice', () => {
    const statement = withCode('23505', 'duplicate key');
    assert.equal(classifyDatabaseError(statement), statement);
    const unavailable = new DatabaseUnavailableError('away');
    assert.equal(classifyDatabaseError(unavailable), unavailable);
  });
});

describe('real driver failures leave the database layer as DatabaseUnavailableError', () => {
  const open = (port: number) => openDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/none`, dataDir: tempDir() });

  test('nothing listening (ECONNREFUSED)', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    await assert.rejects(open(port), (err: Error) => err instanceof DatabaseUnavailableError && (err.cause as { code?: string }).code === 'ECONNREFUSED');
  });

  test('a server that hangs up at once (connection terminated)', async () => {
    const s = net.createServer((socket) => socket.destroy());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      await assert.rejects(open((s.address() as net.AddressInfo).port), DatabaseUnavailableError);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});

/**
 * A server that speaks just enough of PostgreSQL's protocol to be connected to and asked a query;
 * the connections after the first are told "terminating connection" (57P01) in the same packet as
 * the "ready for query" that completes them: what a restart does to a connection being opened.
 */
async function serverShuttingDownUnderNewConnections(): Promise<{ port: number; firstClosed: Promise<void>; close(): Promise<void> }> {
  const message = (type: string, body: Buffer) => {
    const head = Buffer.alloc(5);
    head.write(type, 0, 'latin1');
    head.writeInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
  };
  const int32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  const authenticated = message('R', int32(0));
  const ready = message('Z', Buffer.from('I'));
  const terminating = message('E', Buffer.from('SFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0\0', 'latin1'));
  let connections = 0;
  let firstClosed!: () => void;
  const closed = new Promise<void>((r) => (firstClosed = r));
  const sockets = new Set<net.Socket>();
  const s = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    const nth = ++connections;
    if (nth === 1) socket.on('close', () => firstClosed());
    let pending = Buffer.alloc(0);
    let started = false;
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        // The startup message has no type byte; every later one has.
        const at = started ? 1 : 0;
        if (pending.length < at + 4) return;
        const length = pending.readInt32BE(at);
        if (pending.length < at + length) return;
        const type = started ? String.fromCharCode(pending[0]) : 'startup';
        pending = pending.subarray(at + length);
        started = true;
        if (type === 'startup' && nth === 1) socket.write(Buffer.concat([authenticated, ready]));
        else if (type === 'startup') socket.end(Buffer.concat([authenticated, ready, terminating]));
        else if (type === 'Q') {
          // The first connection answers its query, then is terminated while idle in the pool.
          socket.write(Buffer.concat([message('C', Buffer.from('SELECT 0\0')), ready]));
          setImmediate(() => socket.end(terminating));
        }
      }
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as net.AddressInfo).port,
    firstClosed: closed,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((r) => s.close(() => r()));
    },
  };
}

describe('a connection terminated in the packet that completes it', () => {
  // The pool hands a new connection out from inside the driver's handling of that packet, after
  // dropping its own error listener; the termination that follows is then emitted with nobody to
  // hear it unless the connection has a listener of its own from the start (it ended the process).
  for (const [what, use] of [
    ['a transaction', (db: Awaited<ReturnType<typeof openPostgres>>) => db.transaction(async (tx) => tx.query('select 1'))],
    [
      'a read-then-write (pipelined)',
      (db: Awaited<ReturnType<typeof openPostgres>>) => db.readThenWrite(undefined, [{ sql: 'select 1' }], async () => ({ result: 1 })),
    ],
  ] as const) {
    test(`${what} on it fails as unavailable, and the process goes on`, async () => {
      const server = await serverShuttingDownUnderNewConnections();
      const db = await openPostgres(`postgres://postgres@127.0.0.1:${server.port}/none`, 2);
      try {
        await server.firstClosed;
        await assert.rejects(use(db), DatabaseUnavailableError);
      } finally {
        await db.close().catch(() => undefined);
        await server.close();
      }
    });
  }
});

describe('background work waits out an outage (retryWhileAway)', () => {
  const quick = { attempts: 4, delayMs: 1, maxDelayMs: 2 };

  test('what an error wraps counts: an audit failure over a lost connection is the database away', () => {
    const wrapped = new Error('the audit log could not be written', { cause: new DatabaseUnavailableError('away', { cause: withCode('ECONNRESET') }) });
    assert.equal(fromDatabaseAway(wrapped), true);
    assert.equal(isConnectionFailure(wrapped), false, 'the wrapper itself is not reclassified');
    assert.equal(fromDatabaseAway(new Error('bug', { cause: new TypeError('x') })), false);
  });

  test('tries again while the database is away, and returns what the first success returns', async () => {
    let calls = 0;
    const result = await retryWhileAway(async () => {
      if (++calls < 3) throw withCode('ECONNREFUSED');
      return 'done';
    }, quick);
    assert.equal(result, 'done');
    assert.equal(calls, 3);
  });

  test('any other failure is thrown at once', async () => {
    let calls = 0;
    const bug = new TypeError('bug');
    await assert.rejects(
      retryWhileAway(async () => {
        calls++;
        throw bug;
      }, quick),
      (err) => err === bug,
    );
    assert.equal(calls, 1);
  });

  test('gives up after its tries, and at once when stopped', async () => {
    let calls = 0;
    const away = withCode('57P03');
    await assert.rejects(
      retryWhileAway(async () => (calls++, Promise.reject(away)), quick),
      (err) => err === away,
    );
    assert.equal(calls, quick.attempts);
    const stop = new AbortController();
    calls = 0;
    const stopped = retryWhileAway(async () => (calls++, Promise.reject(away)), { attempts: 10, delayMs: 60_000, maxDelayMs: 60_000, signal: stop.signal });
    stop.abort();
    await assert.rejects(stopped, (err) => err === away);
    assert.equal(calls, 1);
  });
});
