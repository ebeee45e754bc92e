/** Listing a watched share, and fingerprinting many files a few at a time. */
import type fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Every folder and file under `dir` but those `skip` names (and what is under them); links are not followed. */
export async function listTree(dir: string, skip: (p: string) => boolean, folders: string[], files: string[]): Promise<void> {
  if (skip(dir)) return;
  folders.push(dir);
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (skip(p)) continue;
    if (e.isDirectory()) await listTree(p, skip, folders, files);
    else if (e.isFile()) files.push(p);
  }
}

export async function mapLimit<T>(xs: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, xs.length) }, async () => {
      while (i < xs.length) await fn(xs[i++]);
    }),
  );
}
