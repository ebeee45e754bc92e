/**
 * A local control channel for the CLI: an HTTP endpoint on a Unix socket in the data folder (mode
 * 0600, so the file system decides who may use it, as with Docker's socket). The embedded database
 * can be open in one process only, so `carewall keys rotate` asks the running server to do the work.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { rotateMasterKey, type RotationResult } from '../keys/rotate.js';
import type { Carewall } from '../runtime.js';

export const CONTROL_SOCKET = 'control.sock';

export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, CONTROL_SOCKET);
}

export async function startControlSocket(cw: Carewall): Promise<() => Promise<void>> {
  const socketPath = controlSocketPath(cw.settings.dataDir);
  fs.rmSync(socketPath, { force: true }); // left by a process that was killed
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/guard/release') {
      cw.guard
        .release()
        .then((result) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result })))
        .catch((err: Error) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message })));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/keys/rotate') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    rotateMasterKey(cw.keyring, cw.settings.dataDir, (done, total) => res.write(JSON.stringify({ progress: [done, total] }) + '\n'))
      .then((result) => res.end(JSON.stringify({ result }) + '\n'))
      .catch((err: Error) => res.end(JSON.stringify({ error: err.message }) + '\n'));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  fs.chmodSync(socketPath, 0o600);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

export function requestRotation(dataDir: string, onProgress?: (done: number, total: number) => void): Promise<RotationResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: controlSocketPath(dataDir), method: 'POST', path: '/keys/rotate' }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const msg = JSON.parse(buffer.slice(0, nl)) as { progress?: [number, number]; result?: RotationResult; error?: string };
          buffer = buffer.slice(nl + 1);
          if (msg.progress) onProgress?.(...msg.progress);
          if (msg.result) resolve(msg.result);
          if (msg.error) reject(new Error(msg.error));
        }
      });
      res.on('end', () => reject(new Error('the running Carewall closed the control channel without an answer')));
    });
    req.on('error', (err) => reject(new Error(`cannot reach the running Carewall's control socket: ${err.message}`)));
    req.end();
  });
}

/** Asks the running server's guard to release the shares; undefined when no server is running here. */
export function requestGuardRelease(dataDir: string): Promise<{ writable: number; incidentFile?: string } | undefined> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: controlSocketPath(dataDir), method: 'POST', path: '/guard/release' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const msg = JSON.parse(body || '{}') as { result?: { writable: number; incidentFile?: string }; error?: string };
        if (msg.result) resolve(msg.result);
        else reject(new Error(msg.error ?? 'the running Carewall gave no answer'));
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? resolve(undefined) : reject(err)));
    req.end();
  });
}
