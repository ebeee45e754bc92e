/**
 * Benign housekeeping that empties, shrinks and deletes files (issue 32): what the wiper detectors
 * (destruction.ts) must leave alone. Each workload's files are made by `prepare`, before the guard
 * starts, so the guard has their fingerprints as it would in a clinic; `run` then does what the
 * software or the administrator does, flat out.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { csv, pdf, prose, Rng, txt } from '../formats.js';
import type { Benign } from './benign.js';

/** Lines of a service's log: timestamps, levels, messages. */
function logLines(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++)
    s += `2026-12-01T0${rng.int(0, 9)}:${String(rng.int(0, 59)).padStart(2, '0')}:00Z ${rng.pick(['INFO', 'WARN', 'DEBUG'])} worker-${rng.int(1, 8)} ${prose(rng, rng.int(5, 15))}\n`;
  return s;
}

/**
 * SQLite-shaped: the 100-byte header's magic, then 4 KiB pages of records (text and numbers, as a
 * practice database's are). file-type reads it as `sqlite`.
 */
function database(rng: Rng, pages: number): Buffer {
  const page = (i: number) => {
    const b = Buffer.alloc(4096);
    if (i === 0) b.write('SQLite format 3\0', 0, 'latin1');
    b.write(
      Array.from({ length: 40 }, () => `${rng.int(1000, 9999)}|${prose(rng, 6)}|${(rng.next() * 100).toFixed(2)}`).join(';'),
      i === 0 ? 100 : 8,
      'latin1',
    );
    return b;
  };
  return Buffer.concat(Array.from({ length: pages }, (_, i) => page(i)));
}

const DB = ['Practice/appointments.sqlite', 'Practice/billing.sqlite', 'Practice/inventory.db'];
const LOGS = ['IT/services/pacs-gateway.out', 'IT/services/hl7-router.out', 'IT/services/scheduler.log'];

export const HOUSEKEEPING: Record<string, Benign> = {
  'log-rotation': {
    description: 'copytruncate log rotation: each live log (also ones not named .log) copied to .1, then truncated to zero and written on',
    prepare: async (dir, rng) => {
      await fsp.mkdir(path.join(dir, 'IT/services'), { recursive: true });
      for (const l of LOGS) await fsp.writeFile(path.join(dir, l), logLines(rng, 600));
    },
    run: async (dir, rng) => {
      for (const l of LOGS) {
        const p = path.join(dir, l);
        await fsp.copyFile(p, `${p}.1`);
        await fsp.truncate(p, 0);
      }
      for (const l of LOGS) await fsp.appendFile(path.join(dir, l), logLines(rng, 3));
      return LOGS.length;
    },
  },
  'database-rewrite': {
    description: 'practice databases rewritten in place page by page (truncate, then write; one compacted to half its size)',
    prepare: async (dir, rng) => {
      await fsp.mkdir(path.join(dir, 'Practice'), { recursive: true });
      for (const d of DB) await fsp.writeFile(path.join(dir, d), database(rng, rng.int(30, 80)));
    },
    run: async (dir, rng) => {
      for (const [i, d] of DB.entries()) {
        const p = path.join(dir, d);
        const size = (await fsp.stat(p)).size;
        const fresh = database(rng, Math.max(2, Math.floor(size / 4096 / (i === 1 ? 2 : 1))));
        const fh = await fsp.open(p, 'w');
        try {
          for (let off = 0; off < fresh.length; off += 4096) await fh.write(fresh, off, 4096, off);
        } finally {
          await fh.close();
        }
      }
      return DB.length;
    },
  },
  'temp-emptied': {
    description: "a program empties its temp and cache files at the end of a session (upload .tmp files, a cache folder's entries)",
    prepare: async (dir, rng) => {
      await fsp.mkdir(path.join(dir, 'IT/app/cache'), { recursive: true });
      await fsp.mkdir(path.join(dir, 'Scans'), { recursive: true });
      for (let i = 0; i < 20; i++) await fsp.writeFile(path.join(dir, 'IT/app/cache', `entry-${i}.bin`), zlib.deflateSync(txt(rng, 800)));
      for (let i = 0; i < 6; i++) await fsp.writeFile(path.join(dir, 'Scans', `upload-${i}.tmp`), pdf(rng, 2));
    },
    run: async (dir) => {
      let n = 0;
      for (let i = 0; i < 20; i++, n++) await fsp.truncate(path.join(dir, 'IT/app/cache', `entry-${i}.bin`), 0);
      for (let i = 0; i < 6; i++, n++) await fsp.truncate(path.join(dir, 'Scans', `upload-${i}.tmp`), 0);
      return n;
    },
  },
  'backup-prune': {
    description: 'a backup tool keeping nightly archives in a share folder (not excluded) prunes all but the newest four',
    prepare: async (dir, rng) => {
      await fsp.mkdir(path.join(dir, 'Backups/nightly'), { recursive: true });
      for (let d = 1; d <= 14; d++)
        await fsp.writeFile(path.join(dir, 'Backups/nightly', `practice-2026-11-${String(d).padStart(2, '0')}.csv.gz`), zlib.gzipSync(csv(rng, 400)));
    },
    run: async (dir) => {
      for (let d = 1; d <= 10; d++) await fsp.unlink(path.join(dir, 'Backups/nightly', `practice-2026-11-${String(d).padStart(2, '0')}.csv.gz`));
      return 10;
    },
  },
  'export-folder-delete': {
    description: 'an administrator deletes an old export folder (four quarters of lab exports and reports) in one go',
    prepare: async (dir, rng) => {
      for (let q = 1; q <= 4; q++) {
        const d = path.join(dir, 'Exports/2019', `Q${q}`);
        await fsp.mkdir(d, { recursive: true });
        for (let i = 0; i < 8; i++) await fsp.writeFile(path.join(d, `lab-${q}-${i}.csv`), csv(rng, 200));
        await fsp.writeFile(path.join(d, `summary-Q${q}.pdf`), pdf(rng, 2));
      }
    },
    run: async (dir) => {
      await fsp.rm(path.join(dir, 'Exports/2019'), { recursive: true });
      return 36;
    },
  },
  'export-year-delete': {
    description:
      "an administrator's script deletes a whole year of exports (twelve monthly folders of lab exports): Node's fs.rm deletes every file before any folder",
    prepare: async (dir, rng) => {
      for (let m = 1; m <= 12; m++) {
        const d = path.join(dir, 'Exports/2018', `M${String(m).padStart(2, '0')}`);
        await fsp.mkdir(d, { recursive: true });
        for (let i = 0; i < 100; i++) await fsp.writeFile(path.join(d, `lab-${m}-${i}.csv`), csv(rng, 8));
      }
    },
    run: async (dir) => {
      await fsp.rm(path.join(dir, 'Exports/2018'), { recursive: true });
      return 1200;
    },
  },
};
