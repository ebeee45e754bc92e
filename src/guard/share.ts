/**
 * A realistic test share: nested folders of a clinic's files (letters as DOCX, scanned reports as
 * PDF, photos as JPEG, imaging series as DICOM, notes as TXT, lab exports as CSV), made by code
 * with valid structure. The marker file makes the simulator willing to destroy it; the simulator
 * refuses any folder without it.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { csv, dicom, docx, jpeg, pdf, Rng, txt } from './formats.js';

export const SHARE_MARKER = '.carewall-test-share';

export interface ShareSummary {
  files: number;
  bytes: number;
  folders: number;
}

const DEPARTMENTS = ['Cardiology', 'Radiology', 'General Practice', 'Dermatology', 'Orthopaedics'];

export async function makeShare(dir: string, opts: { files: number; seed: number }): Promise<ShareSummary> {
  const rng = new Rng(opts.seed);
  await fsp.mkdir(dir, { recursive: true });
  if (fs.readdirSync(dir).filter((f) => f !== SHARE_MARKER).length > 0) throw new Error(`${dir} is not empty; a test share is made in a new or empty folder`);
  fs.writeFileSync(path.join(dir, SHARE_MARKER), 'A synthetic share made by carewall guard; the simulator may destroy everything in this folder.\n');
  let files = 0;
  let bytes = 0;
  const folders = new Set<string>();
  const put = async (rel: string, data: Buffer | Promise<Buffer>) => {
    const file = path.join(dir, rel);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    folders.add(path.dirname(file));
    const b = await data;
    await fsp.writeFile(file, b);
    // Spread modification times over two years so that newest-first traversals have an order to follow.
    const t = new Date(Date.UTC(2024, 0, 1) + rng.next() * 730 * 86400e3);
    await fsp.utimes(file, t, t);
    files++;
    bytes += b.length;
  };
  let n = 0;
  // A patient's folder holds several letters, reports, notes and an imaging series or two, as a
  // clinic's does: folders of a handful to a dozen files.
  const take = (k: number) => Math.max(0, Math.min(k, opts.files - files));
  while (files < opts.files) {
    const dept = rng.pick(DEPARTMENTS);
    const p = `${dept}/Patients/P${String(10000 + n++).padStart(6, '0')}`;
    for (let i = take(rng.int(1, 6)); i > 0; i--) await put(`${p}/Letters/letter-${rng.int(1, 99999)}.docx`, docx(rng));
    for (let i = take(rng.int(0, 4)); i > 0; i--) await put(`${p}/Reports/report-${rng.int(1, 99999)}.pdf`, pdf(rng));
    for (let i = take(rng.int(0, 3)); i > 0; i--) await put(`${p}/Photos/IMG_${rng.int(1000, 99999)}.jpg`, jpeg(rng));
    if (rng.next() < 0.5) {
      const s = rng.int(1, 9);
      for (let i = take(rng.int(3, 10)); i > 0; i--)
        await put(`${p}/Imaging/Series${s}/IM${String(i).padStart(5, '0')}.dcm`, dicom(rng, rng.pick([128, 256, 256])));
    }
    for (let i = take(rng.int(1, 5)); i > 0; i--) await put(`${p}/Notes/note-${rng.int(1, 99999)}.txt`, txt(rng));
    if (rng.next() < 0.2) for (let i = take(1); i > 0; i--) await put(`${dept}/Lab/export-${rng.int(1, 99999)}.csv`, csv(rng));
  }
  return { files, bytes, folders: folders.size };
}

/** Refuses to go on unless the folder is a test share made by makeShare. */
export function assertTestShare(dir: string): void {
  if (!fs.existsSync(path.join(dir, SHARE_MARKER)))
    throw new Error(`${dir} has no ${SHARE_MARKER} marker: the simulator only attacks a test share made by 'carewall guard make-share' (it destroys files)`);
}
