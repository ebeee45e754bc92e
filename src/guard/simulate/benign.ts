/**
 * Benign workloads that resemble encryption activity in some way (many writes, compressed output,
 * renames, deletes): what the guard must not raise an alarm on. They run flat out on a test share.
 * A workload may need a `prepare` step (a git repository to check out) before the guard starts.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dicom, docx, jpeg, pdf, prose, Rng, zipOf } from '../formats.js';
import { listTargets } from './behaviours.js';
import { HOUSEKEEPING } from './housekeeping.js';

export interface Benign {
  description: string;
  /** Folders (relative to the share) the guard is told to leave alone for this workload. */
  exclude?: string[];
  available?: () => boolean;
  prepare?: (dir: string, rng: Rng) => Promise<void>;
  run: (dir: string, rng: Rng) => Promise<number>;
}

const has = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const files = (dir: string, ext?: string) =>
  listTargets(dir, 'readdir', new Rng(1)).filter(
    (t) => !ext || (t.path.endsWith(ext) && !path.basename(t.path).startsWith('!') && !path.basename(t.path).startsWith('zz ')),
  );
const topFolders = (dir: string) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name);

async function chunkedBackup(dir: string, repo: string, skip: string): Promise<number> {
  await fsp.mkdir(repo, { recursive: true });
  const key = crypto.randomBytes(32);
  let n = 0;
  for (const t of listTargets(dir, 'readdir', new Rng(1))) {
    if (t.path.startsWith(skip + path.sep)) continue;
    const data = await fsp.readFile(t.path).catch(() => undefined);
    if (!data) continue;
    for (let off = 0; off < data.length; off += 1 << 20) {
      const chunk = data.subarray(off, off + (1 << 20));
      const id = crypto.createHash('sha256').update(chunk).digest('hex');
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([iv, c.update(chunk), c.final(), c.getAuthTag()]);
      const file = path.join(repo, 'data', id.slice(0, 2), id);
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(file, sealed);
      n++;
    }
  }
  return n;
}

export const BENIGN: Record<string, Benign> = {
  'zip-archive': {
    description: 'archive a department folder into a .zip inside the share (zip(1) when installed, else yazl)',
    run: async (dir) => {
      const dept = topFolders(dir)[0];
      await fsp.mkdir(path.join(dir, 'Archive'), { recursive: true });
      const out = path.join(dir, 'Archive', `${dept}-2025.zip`);
      if (has('zip')) execFileSync('zip', ['-qr', out, dept], { cwd: dir });
      else await fsp.writeFile(out, await zipOf(files(path.join(dir, dept)).map((t) => [path.relative(dir, t.path), fs.readFileSync(t.path)])));
      return 1;
    },
  },
  '7z-archive': {
    description: 'archive a department folder into a .7z inside the share (needs 7z or 7zz: Debian 7zip or p7zip-full)',
    available: () => has('7z') || has('7zz'),
    run: async (dir) => {
      const dept = topFolders(dir)[0];
      await fsp.mkdir(path.join(dir, 'Archive'), { recursive: true });
      execFileSync(has('7z') ? '7z' : '7zz', ['a', '-bd', '-y', path.join(dir, 'Archive', `${dept}-2025.7z`), dept], { cwd: dir, stdio: 'ignore' });
      return 1;
    },
  },
  'office-save': {
    description:
      'safe-saves of letters: new version to a temp file, original renamed away, temp renamed in, old deleted (Word and LibreOffice styles, with lock files)',
    run: async (dir, rng) => {
      const letters = files(dir, '.docx').slice(0, 25);
      let i = 0;
      for (const t of letters) {
        const d = path.dirname(t.path);
        const name = path.basename(t.path);
        const fresh = await docx(rng);
        if (i++ % 2 === 0) {
          const owner = path.join(d, `~$${name.slice(2)}`);
          await fsp.writeFile(owner, Buffer.concat([Buffer.from([5]), Buffer.from('Dr. Example'), Buffer.alloc(150)]));
          const tmp = path.join(d, `~WRL${String(rng.int(1, 9999)).padStart(4, '0')}.tmp`);
          const old = path.join(d, `~WRD${String(rng.int(1, 9999)).padStart(4, '0')}.tmp`);
          await fsp.writeFile(tmp, fresh);
          await fsp.rename(t.path, old);
          await fsp.rename(tmp, t.path);
          await fsp.unlink(old);
          await fsp.unlink(owner);
        } else {
          const lock = path.join(d, `.~lock.${name}#`);
          await fsp.writeFile(lock, `,Dr. Example,clinic-pc,01.12.2026 09:00,file:///home/user/.config/libreoffice/4;\n`);
          const tmp = path.join(d, `lu${crypto.randomBytes(4).toString('hex')}.tmp`);
          await fsp.writeFile(tmp, fresh);
          await fsp.rename(tmp, t.path);
          await fsp.unlink(lock);
        }
      }
      return letters.length;
    },
  },
  'imaging-copy': {
    description: 'copy new DICOM series and JPEG photo series into the share (made outside it first)',
    run: async (dir, rng) => {
      const src = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-imaging-'));
      let n = 0;
      for (let s = 1; s <= 3; s++) {
        fs.mkdirSync(path.join(src, `Series${s}`), { recursive: true });
        for (let i = 1; i <= 12; i++, n++) fs.writeFileSync(path.join(src, `Series${s}`, `IM${String(i).padStart(5, '0')}`), dicom(rng, 256));
      }
      fs.mkdirSync(path.join(src, 'Photos'), { recursive: true });
      for (let i = 1; i <= 20; i++, n++) fs.writeFileSync(path.join(src, 'Photos', `IMG_${1000 + i}.JPG`), jpeg(rng));
      await fsp.cp(src, path.join(dir, topFolders(dir)[0], 'Incoming', `Study-${rng.int(1000, 9999)}`), { recursive: true });
      fs.rmSync(src, { recursive: true, force: true });
      return n;
    },
  },
  'git-checkout': {
    description: 'switch branches in a git working tree inside the share (real git; text, PDFs, images change, appear and go)',
    available: () => has('git'),
    prepare: async (dir, rng) => {
      const repo = path.join(dir, 'IT', 'forms');
      await fsp.mkdir(path.join(repo, 'templates'), { recursive: true });
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=IT', '-c', 'user.email=it@clinic.example', '-c', 'init.defaultBranch=main', ...args], {
          cwd: repo,
          stdio: 'ignore',
        });
      git('init', '-q');
      for (let i = 0; i < 60; i++) await fsp.writeFile(path.join(repo, 'templates', `form-${i}.md`), prose(rng, rng.int(50, 400)));
      for (let i = 0; i < 10; i++) await fsp.writeFile(path.join(repo, `guide-${i}.pdf`), pdf(rng, 2));
      for (let i = 0; i < 6; i++) await fsp.writeFile(path.join(repo, `logo-${i}.jpg`), jpeg(rng, 120));
      git('add', '-A');
      git('commit', '-q', '-m', 'forms');
      git('checkout', '-q', '-b', 'v2');
      for (let i = 0; i < 60; i += 2) await fsp.writeFile(path.join(repo, 'templates', `form-${i}.md`), prose(rng, rng.int(50, 400)));
      for (let i = 0; i < 10; i += 3) await fsp.rm(path.join(repo, `guide-${i}.pdf`));
      for (let i = 0; i < 6; i++) await fsp.writeFile(path.join(repo, `logo-${i}.jpg`), jpeg(rng, 130));
      for (let i = 0; i < 20; i++) await fsp.writeFile(path.join(repo, 'templates', `new-${i}.md`), prose(rng, 80));
      git('add', '-A');
      git('commit', '-q', '-m', 'v2');
      git('checkout', '-q', 'main');
    },
    run: async (dir) => {
      const repo = path.join(dir, 'IT', 'forms');
      execFileSync('git', ['checkout', '-q', 'v2'], { cwd: repo, stdio: 'ignore' });
      execFileSync('git', ['checkout', '-q', 'main'], { cwd: repo, stdio: 'ignore' });
      return 2;
    },
  },
  'npm-install': {
    description:
      'npm-install-like writes: a tarball of many small JS packages extracted into a staging folder, renamed into node_modules, a lock file written (no network)',
    available: () => has('tar'),
    run: async (dir, rng) => {
      const src = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-npm-'));
      const pkgs = 40;
      for (let p = 0; p < pkgs; p++) {
        const d = path.join(src, `pkg-${p}`, 'lib');
        fs.mkdirSync(d, { recursive: true });
        fs.writeFileSync(path.join(src, `pkg-${p}`, 'package.json'), JSON.stringify({ name: `pkg-${p}`, version: '1.0.0', main: 'lib/index.js' }, null, 2));
        for (let f = 0; f < 12; f++)
          fs.writeFileSync(
            path.join(d, `m${f}.js`),
            `'use strict';\n// ${prose(rng, 20)}\nmodule.exports = function m${f}(a, b) { return a + b * ${f}; };\n`.repeat(rng.int(1, 20)),
          );
      }
      const tgz = path.join(os.tmpdir(), `cw-npm-${crypto.randomBytes(4).toString('hex')}.tgz`);
      execFileSync('tar', ['-czf', tgz, '-C', src, '.']);
      const app = path.join(dir, 'IT', 'app');
      const staging = path.join(app, 'node_modules', '.staging');
      await fsp.mkdir(staging, { recursive: true });
      execFileSync('tar', ['-xzf', tgz, '-C', staging]);
      for (let p = 0; p < pkgs; p++) await fsp.rename(path.join(staging, `pkg-${p}`), path.join(app, 'node_modules', `pkg-${p}`));
      await fsp.rm(staging, { recursive: true });
      await fsp.writeFile(
        path.join(app, 'package-lock.json'),
        JSON.stringify(
          {
            lockfileVersion: 3,
            packages: Object.fromEntries(
              Array.from({ length: pkgs }, (_, p) => [
                `node_modules/pkg-${p}`,
                { version: '1.0.0', integrity: 'sha512-' + crypto.randomBytes(64).toString('base64') },
              ]),
            ),
          },
          null,
          2,
        ),
      );
      fs.rmSync(src, { recursive: true, force: true });
      fs.rmSync(tgz, { force: true });
      return pkgs * 13;
    },
  },
  'backup-outside': {
    description: 'the backup itself: read every file of the share, write encrypted 1 MiB chunks to a repository outside it',
    run: async (dir) => {
      const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-repo-'));
      const n = await chunkedBackup(dir, repo, repo);
      fs.rmSync(repo, { recursive: true, force: true });
      return n;
    },
  },
  'backup-inside': {
    description: 'the backup writing its encrypted chunks into a repository folder inside the share, which the guard is told to exclude',
    exclude: ['.carewall-backup'],
    run: async (dir) => chunkedBackup(dir, path.join(dir, '.carewall-backup'), path.join(dir, '.carewall-backup')),
  },
  'user-edits': {
    description:
      'a day of staff work: notes and lab exports appended to, letters re-saved in place, photos renamed .JPG to .jpeg, files deleted, a folder moved',
    run: async (dir, rng) => {
      let n = 0;
      for (const t of [...files(dir, '.txt').slice(0, 10), ...files(dir, '.csv').slice(0, 5)]) {
        await fsp.appendFile(t.path, prose(rng, 30) + '\n');
        n++;
      }
      for (const t of files(dir, '.docx').slice(25, 31)) {
        await fsp.writeFile(t.path, await docx(rng));
        n++;
      }
      for (const t of files(dir, '.jpg').slice(0, 6)) {
        await fsp.rename(t.path, t.path.replace(/\.jpg$/, '.jpeg'));
        n++;
      }
      for (const t of files(dir, '.pdf').slice(0, 5)) {
        await fsp.unlink(t.path);
        n++;
      }
      const dept = topFolders(dir)[0];
      const patients = fs.existsSync(path.join(dir, dept, 'Patients')) ? fs.readdirSync(path.join(dir, dept, 'Patients')) : [];
      if (patients[0]) {
        await fsp.mkdir(path.join(dir, dept, 'Former patients'), { recursive: true });
        await fsp.rename(path.join(dir, dept, 'Patients', patients[0]), path.join(dir, dept, 'Former patients', patients[0]));
        n++;
      }
      await fsp.writeFile(
        path.join(dir, dept, 'Security memo.txt'),
        'Reminder: ransomware encrypts your files and demands payment in bitcoin. Never pay a ransom; do not open attachments; report anything odd to IT. Backups restore our data.\n',
      );
      return n + 1;
    },
  },
  // Housekeeping that empties, shrinks and deletes (log rotation, databases, temp files, prunes).
  ...HOUSEKEEPING,
};
