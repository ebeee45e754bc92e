/**
 * A new scratch folder under the system's temporary folder. A module of its own: a test that needs
 * only this need not load all of Carewall through harness.ts (about 2 s of CPU per test process).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(prefix = 'carewall-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
