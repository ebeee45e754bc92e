/** Answers with this thread's CPU priority (its nice value, from Linux's /proc), served in the background. */
import fs from 'node:fs';
import { serveWorker } from '../../src/util/index.js';

serveWorker(
  () => {
    const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]); // field 19, after the command name
  },
  { background: true },
);
