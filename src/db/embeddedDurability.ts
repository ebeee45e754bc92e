/**
 * Commits on the embedded database reach the disk before they are acknowledged.
 *
 * Why this exists: PGlite starts PostgreSQL with fsync off (its default start parameters carry
 * `-F`), and the file system it runs on under Node (Emscripten's NODEFS) has no fsync of its own:
 * PostgreSQL's fsync calls end in a no-op, and its fdatasync calls (the default way to flush the
 * write-ahead log on Linux) are dropped before they reach a file system at all. A commit then sat in
 * the operating system's cache: a power cut or a kernel crash could lose records and audit entries
 * the server had acknowledged, and leave the data files behind the log PostgreSQL had already
 * recycled. Checked with strace on 200 commits: no fsync or fdatasync system call, before this.
 *
 * So: PostgreSQL runs with fsync on and flushes its log with fsync (`wal_sync_method=fsync`, the one
 * call that reaches the file system), and NODEFS's streams get the fsync they lack: `fdatasync(2)`
 * on the file's descriptor, which is what PostgreSQL itself uses for its log on Linux (the data and
 * what is needed to read it, the size included, without a journal commit for the modification
 * time alone). That is PostgreSQL's own durability, nothing invented here: the log is flushed at
 * every commit, the data files at every checkpoint. The flush runs on the server's thread (the
 * engine calls it synchronously), so its cost is the disk's, paid by every request behind it
 * (docs/benchmarks.md: creates about a quarter slower on this machine's disk).
 */
import fs from 'node:fs';

/** PGlite's default start parameters without fsync off, and the log flushed by the call that reaches the disk. */
export function durableStartParams(defaults: readonly string[]): string[] {
  return [...defaults.filter((p) => p !== '-F'), '-c', 'fsync=on', '-c', 'wal_sync_method=fsync'];
}

/** The parts of Emscripten's file system this touches (PGlite's `mod.FS`). */
interface EmscriptenFs {
  lookupPath(path: string): { node: { mount: { type: { stream_ops: StreamOps; tryFSOperation?: <T>(op: () => T) => T } } } };
}
interface StreamOps {
  fsync?: (stream: { nfd?: number }) => number;
}

/**
 * Gives the streams of the file system mounted at `dataDir` (inside the engine) a real flush. The
 * operations object is shared by every node of that file system, so this covers the log, the data
 * files and the folders PostgreSQL flushes.
 */
export function makeFsyncReal(engineFs: EmscriptenFs, dataDir: string, fsync: (fd: number) => void = (fd) => fs.fdatasyncSync(fd)): void {
  const type = engineFs.lookupPath(dataDir).node.mount.type;
  const ops = type.stream_ops;
  if (ops.fsync) return;
  ops.fsync = (stream) => {
    if (stream.nfd === undefined) return 0;
    const fd = stream.nfd;
    // A failed flush becomes the file system's own error (EIO), which PostgreSQL treats as it must:
    // it stops rather than carry on as if the data were safe.
    if (type.tryFSOperation) type.tryFSOperation(() => fsync(fd));
    else fsync(fd);
    return 0;
  };
}
