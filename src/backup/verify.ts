/** `carewall backup verify`: every manifest's signature and every chunk it names, opened and hashed. */
import type { FileEntry, Manifest, RepositoryReader } from './repository.js';

export interface VerifyReport {
  ok: boolean;
  snapshots: number;
  chunks: number;
  problems: Array<{ object: string; problem: string }>;
}

/** Every chunk a manifest names, with the trees of its shares (which are read to find their files). */
export async function chunksOf(reader: RepositoryReader, manifest: Manifest, problems: VerifyReport['problems'], where: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const t of manifest.database?.tables ?? []) for (const c of t.chunks) ids.add(c);
  for (const f of manifest.config) for (const c of f.chunks ?? []) ids.add(c);
  for (const [name, share] of Object.entries(manifest.shares)) {
    for (const c of share.tree) ids.add(c);
    try {
      const entries = JSON.parse((await reader.readAll(share.tree)).toString('utf8')) as FileEntry[];
      for (const e of entries) for (const c of e.chunks ?? []) ids.add(c);
    } catch (err) {
      problems.push({ object: `${where} share ${name}`, problem: (err as Error).message });
    }
  }
  return ids;
}

export async function verifyRepository(reader: RepositoryReader, only?: string[]): Promise<VerifyReport> {
  const { snapshots, problems: manifestProblems } = await reader.snapshots();
  const problems: VerifyReport['problems'] = manifestProblems.map((p) => ({ object: p.name, problem: p.problem }));
  const chosen = only ? snapshots.filter((s) => only.includes(s.name)) : snapshots;
  const ids = new Set<string>();
  for (const s of chosen) for (const id of await chunksOf(reader, s.manifest, problems, s.name)) ids.add(id);
  for (const id of ids) {
    try {
      await reader.chunk(id);
    } catch (err) {
      problems.push({ object: `data/${id}`, problem: (err as Error).message });
    }
  }
  return { ok: problems.length === 0, snapshots: chosen.length, chunks: ids.size, problems };
}
