/**
 * The embedded engine's thread (started by embedded.ts): opens the engine on the folder it is given
 * and answers each request with its result or its error, in the order the engine finishes them.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { EmbeddedHost, carryError, openEmbeddedEngine, type EngineArtifacts, type HostReply, type HostRequest } from './embeddedHost.js';

const { dir, buffersMb, artifacts, waited, answered } = workerData as {
  dir: string;
  buffersMb: number;
  artifacts: EngineArtifacts;
  /** Requests the server's thread waits for without returning to its event loop (embedded.ts). */
  waited: MessagePort;
  /** Two flags: the first set to 1 and notified when the answer to such a request is on `waited`, the second when this thread ends. */
  answered: SharedArrayBuffer;
};
const answeredFlag = new Int32Array(answered);
// A thread that ends (an engine fault) wakes a server's thread that waits for it.
process.on('exit', () => {
  Atomics.store(answeredFlag, 1, 1);
  Atomics.notify(answeredFlag, 0);
});
const port = parentPort;
if (!port) throw new Error('embeddedThread runs as a worker thread');

try {
  const db = await openEmbeddedEngine(dir, buffersMb, artifacts);
  const host = new EmbeddedHost(db, (channel, payload) => port.postMessage({ notify: channel, payload }));
  port.on('message', (r: HostRequest) => {
    host.handle(r).then(
      (value) => {
        const reply: HostReply = { id: r.id, ok: true, value };
        // A COPY's bytes are this thread's own fresh buffer: handed over, not copied.
        port.postMessage(reply, r.op === 'copyOut' && value instanceof Uint8Array ? [value.buffer as ArrayBuffer] : []);
      },
      (err) => port.postMessage({ id: r.id, ok: false, error: carryError(err) } satisfies HostReply),
    );
  });
  waited.on('message', (r: HostRequest) => {
    const reply = (m: HostReply) => {
      waited.postMessage(m);
      Atomics.store(answeredFlag, 0, 1);
      Atomics.notify(answeredFlag, 0);
    };
    host.handle(r).then(
      (value) => reply({ id: r.id, ok: true, value }),
      (err) => reply({ id: r.id, ok: false, error: carryError(err) }),
    );
  });
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ ready: false, error: carryError(err) });
}
