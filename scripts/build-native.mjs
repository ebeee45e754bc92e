#!/usr/bin/env node
/**
 * Builds the optional native addon (native/merkle.c: batched SHA-256 for audit verification) with
 * the node-gyp that npm carries, against the headers of the Node.js running this script. Run by
 * `npm install` (prepare). Optional by design: without a C compiler or Node's headers it says so in
 * one line and Carewall uses node:crypto instead, with the same results, only slower to verify.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dir = path.join(root, 'native');

function nodeGyp() {
  // npm points scripts at its own node-gyp; otherwise look beside npm's own files.
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ].filter(Boolean);
  return candidates.find((c) => fs.existsSync(c));
}

function nodeHeaders() {
  // Headers installed with Node itself (Debian's nodejs, the nodejs.org tarballs): no download.
  const prefix = path.dirname(path.dirname(process.execPath));
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return process.env.npm_config_nodedir;
}

const gyp = nodeGyp();
const headers = nodeHeaders();
if (!gyp || !headers) {
  console.log(`carewall: native hashing not built (${!gyp ? 'node-gyp not found' : "Node's headers not found"}); audit verification uses node:crypto`);
  process.exit(0);
}
const run = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${headers}`, '--loglevel=error'], {
  cwd: dir,
  stdio: ['ignore', 'pipe', 'pipe'],
  timeout: 120_000,
  encoding: 'utf8',
});
if (run.status !== 0) {
  const why = (run.stderr || run.stdout || String(run.error ?? '')).split('\n').find((l) => /error/i.test(l)) ?? 'the build failed';
  console.log(`carewall: native hashing not built (${why.trim().slice(0, 200)}); audit verification uses node:crypto`);
  process.exit(0);
}
