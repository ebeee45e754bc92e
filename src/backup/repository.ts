/**
 * A backup repository: one plaintext `config` object (public keys, chunker sizes and the writer's
 * keys sealed to the recovery key), content-addressed chunks under `data/`, signed and encrypted
 * snapshot manifests under `snapshots/`, and signed restore-test results under `evidence/`.
 * The Writer holds what the backing-up machine may hold; the Reader needs the recovery key.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { ObjectExistsError, type Backend } from './backend.js';
import { Chunker, checkChunkerParams, DEFAULT_CHUNKER, type ChunkerParams } from './chunker.js';
import {
  ed25519Private,
  ed25519Public,
  newRecoverySecret,
  newRunKey,
  ObjectOpener,
  rawPublic,
  recoveryKeys,
  sealObject,
  sealTo,
  TamperedObjectError,
  WrongRecoveryKeyError,
  formatRecoveryKey,
  type RecoveryKeys,
  type RunKey,
} from './crypto.js';

export const FORMAT = 'carewall-backup/1';
const SNAPSHOT_MAGIC = Buffer.from('CWS1');
const EVIDENCE_MAGIC = Buffer.from('CWE1');

interface RepoConfig {
  format: string;
  id: string;
  createdAt: string;
  /** X25519 public key every object is encrypted to (its private half comes from the recovery key). */
  recipient: string;
  /** Ed25519 key that signs snapshot manifests (the writer's). */
  signer: string;
  /** Ed25519 key that signs restore-test evidence (derived from the recovery key). */
  evidence: string;
  chunker: ChunkerParams;
  /** The writer's secrets sealed to the recipient: a new machine restored from the recovery key alone can carry on. */
  writer: string;
}

/** What the machine that makes backups keeps (DATA_DIR/backup.key): it can add, never read back. */
export interface WriterCredential {
  repository: string;
  repositoryId: string;
  /** SHA-256 of the config object: a config swapped for an attacker's (their own recipient key) is refused. */
  configSha256: string;
  idKey: string;
  gearKey: string;
  signingKey: string;
  /** Bearer token for a vault repository. */
  token?: string;
}

interface WriterSecrets {
  idKey: string;
  gearKey: string;
  signingKey: string;
}

export interface InitResult {
  recoveryKey: string;
  credential: WriterCredential;
}

/** Creates the repository's config: the recovery key is returned once and stored nowhere. */
export async function initRepository(backend: Backend, repository: string, chunker: ChunkerParams = DEFAULT_CHUNKER, token?: string): Promise<InitResult> {
  checkChunkerParams(chunker);
  const secret = newRecoverySecret();
  const rk = recoveryKeys(secret);
  const signing = crypto.randomBytes(32);
  const secrets: WriterSecrets = {
    idKey: crypto.randomBytes(32).toString('base64'),
    gearKey: crypto.randomBytes(32).toString('base64'),
    signingKey: signing.toString('base64'),
  };
  const config: RepoConfig = {
    format: FORMAT,
    id: crypto.randomUUID(),
    createdAt: new Date().toISOString(),
    recipient: rk.recipient.toString('base64'),
    signer: rawPublic(ed25519Private(signing)).toString('base64'),
    evidence: rk.evidencePublic.toString('base64'),
    chunker,
    writer: sealTo(rk.recipient, 'config:writer', Buffer.from(JSON.stringify(secrets))).toString('base64'),
  };
  const bytes = Buffer.from(JSON.stringify(config, null, 2) + '\n');
  try {
    await backend.put('config', bytes);
  } catch (err) {
    if (err instanceof ObjectExistsError) throw new Error(`${backend.description} already holds a repository; it is never replaced`);
    throw err;
  }
  return {
    recoveryKey: formatRecoveryKey(secret),
    credential: { repository, repositoryId: config.id, configSha256: sha256(bytes), ...secrets, ...(token ? { token } : {}) },
  };
}

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

async function loadConfig(backend: Backend): Promise<{ config: RepoConfig; bytes: Buffer }> {
  const bytes = await backend.get('config');
  const config = JSON.parse(bytes.toString('utf8')) as RepoConfig;
  if (config.format !== FORMAT) throw new Error(`${backend.description}: not a ${FORMAT} repository`);
  checkChunkerParams(config.chunker);
  return { config, bytes };
}

const COMPRESS_PARAMS = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } };

/** 0: stored as is; 1: Brotli (quality 1, bench/backup.ts measured it fastest of node:zlib's). */
function pack(plain: Buffer): Buffer {
  if (plain.length >= 64) {
    const packed = zlib.brotliCompressSync(plain, COMPRESS_PARAMS);
    // Already-compressed content (JPEG, DICOM with JPEG, PDF, ZIP) is kept as it is.
    if (packed.length < plain.length - (plain.length >> 5)) return Buffer.concat([Buffer.from([1]), packed]);
  }
  return Buffer.concat([Buffer.from([0]), plain]);
}

function unpack(name: string, b: Buffer): Buffer {
  if (b[0] === 0) return b.subarray(1);
  if (b[0] === 1) return zlib.brotliDecompressSync(b.subarray(1));
  throw new TamperedObjectError(`${name}: unknown packing`);
}

export interface WriteStats {
  chunks: number;
  newChunks: number;
  bytesRead: number;
  bytesNew: number;
  bytesStored: number;
}

function chunkId(idKey: Buffer, plain: Buffer): string {
  return crypto.createHmac('sha256', idKey).update(plain).digest('hex');
}

export class RepositoryWriter {
  readonly chunker: Chunker;
  readonly stats: WriteStats = { chunks: 0, newChunks: 0, bytesRead: 0, bytesNew: 0, bytesStored: 0 };
  private readonly idKey: Buffer;
  private readonly signing: crypto.KeyObject;
  private readonly run: RunKey;
  private readonly inFlight = new Set<Promise<void>>();

  private constructor(
    readonly backend: Backend,
    readonly config: RepoConfig,
    credential: WriterCredential,
    private readonly known: Set<string>,
  ) {
    this.idKey = Buffer.from(credential.idKey, 'base64');
    this.signing = ed25519Private(Buffer.from(credential.signingKey, 'base64'));
    this.chunker = new Chunker(Buffer.from(credential.gearKey, 'base64'), config.chunker);
    // A fresh ephemeral key per run; its private half dies with this object.
    this.run = newRunKey(Buffer.from(config.recipient, 'base64'));
  }

  static async open(backend: Backend, credential: WriterCredential): Promise<RepositoryWriter> {
    const { config, bytes } = await loadConfig(backend);
    if (config.id !== credential.repositoryId || sha256(bytes) !== credential.configSha256) {
      throw new Error(`${backend.description}: the repository's config is not the one this installation was set up with; refusing to write to it`);
    }
    // The dedup index is the listing itself: names are keyed ids, so nothing needs to be read back.
    const known = new Set((await backend.list('data/')).map((n) => n.slice(5)));
    return new RepositoryWriter(backend, config, credential, known);
  }

  /** Stores one chunk unless the repository has it; returns its id. */
  async putChunk(plain: Buffer): Promise<string> {
    const id = chunkId(this.idKey, plain);
    this.stats.chunks++;
    this.stats.bytesRead += plain.length;
    if (this.known.has(id)) return id;
    this.known.add(id);
    const name = `data/${id}`;
    const sealed = sealObject(this.run, name, pack(plain));
    this.stats.newChunks++;
    this.stats.bytesNew += plain.length;
    this.stats.bytesStored += sealed.length;
    // Up to 8 uploads at once (a vault or S3 over the network); a folder is as fast either way.
    const p = this.backend
      .put(name, sealed)
      .catch((err) => {
        // The same keyed id is the same content: another run stored it first.
        if (!(err instanceof ObjectExistsError)) throw err;
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    if (this.inFlight.size >= 8) await Promise.race(this.inFlight);
    return id;
  }

  async putStream(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, onChunk?: (plain: Buffer) => void): Promise<string[]> {
    const ids: string[] = [];
    for await (const chunk of this.chunker.chunks(source)) {
      onChunk?.(chunk);
      ids.push(await this.putChunk(chunk));
    }
    return ids;
  }

  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** Writes a manifest (after every chunk it names is stored): encrypted, then signed. */
  async putSnapshot(manifest: object, time: Date): Promise<string> {
    await this.flush();
    const name = `snapshots/${time.toISOString().replace(/[:.]/g, '-')}-${crypto.randomBytes(4).toString('hex')}`;
    const body = sealObject(this.run, name, pack(Buffer.from(JSON.stringify(manifest))));
    const signature = crypto.sign(null, Buffer.concat([Buffer.from(`carewall-snapshot\n${name}\n`), body]), this.signing);
    await this.backend.put(name, Buffer.concat([SNAPSHOT_MAGIC, signature, body]));
    return name;
  }

  /** Restore-test evidence, verified against the repository's evidence key (no recovery key needed). */
  async listEvidence(): Promise<Array<{ name: string; evidence: Record<string, unknown> }>> {
    const out: Array<{ name: string; evidence: Record<string, unknown> }> = [];
    const key = ed25519Public(Buffer.from(this.config.evidence, 'base64'));
    for (const name of await this.backend.list('evidence/')) {
      const b = await this.backend.get(name);
      const body = b.subarray(68);
      const ok =
        b.subarray(0, 4).equals(EVIDENCE_MAGIC) &&
        crypto.verify(null, Buffer.concat([Buffer.from(`carewall-evidence\n${name}\n`), body]), key, b.subarray(4, 68));
      if (ok) out.push({ name, evidence: JSON.parse(body.toString('utf8')) });
    }
    return out;
  }
}

export interface SnapshotInfo {
  name: string;
  manifest: Manifest;
}

/** The manifest of one snapshot (see snapshot.ts for what goes in). */
export interface Manifest {
  format: string;
  time: string;
  reason: string;
  host: string;
  carewallVersion: string;
  database?: DatabasePart;
  config: FileEntry[];
  shares: Record<string, SharePart>;
  stats?: WriteStats;
}

export interface SharePart {
  root: string;
  tree: string[];
  files: number;
  bytes: number;
  /**
   * Only some of the share's files (a protective snapshot at a ransomware alarm holds the files the
   * attack had not reached): never the snapshot a whole share or "undo the attack" is restored from.
   */
  partial?: true;
}

export interface DatabasePart {
  engine: string;
  migrations: Array<{ module: string; version: number }>;
  tables: Array<{ name: string; columns: string[]; rows: number; bytes: number; chunks: string[] }>;
}

export interface FileEntry {
  path: string;
  type: 'file' | 'dir';
  mode: number;
  mtimeMs: number;
  size: number;
  sha256?: string;
  chunks?: string[];
}

export class RepositoryReader {
  private readonly opener: ObjectOpener;
  private readonly idKey: Buffer;
  readonly writerSecrets: WriterSecrets;

  private constructor(
    readonly backend: Backend,
    readonly config: RepoConfig,
    readonly configBytes: Buffer,
    private readonly recovery: RecoveryKeys,
  ) {
    this.opener = new ObjectOpener(recovery);
    this.writerSecrets = JSON.parse(this.opener.open('config:writer', Buffer.from(config.writer, 'base64')).toString('utf8')) as WriterSecrets;
    this.idKey = Buffer.from(this.writerSecrets.idKey, 'base64');
  }

  /** Fails with WrongRecoveryKeyError (before touching any data) when the key is not this repository's. */
  static async open(backend: Backend, recoverySecret: Buffer): Promise<RepositoryReader> {
    const { config, bytes } = await loadConfig(backend);
    const rk = recoveryKeys(recoverySecret);
    if (!rk.recipient.equals(Buffer.from(config.recipient, 'base64')) || !rk.evidencePublic.equals(Buffer.from(config.evidence, 'base64'))) {
      throw new WrongRecoveryKeyError(`this recovery key does not open the repository in ${backend.description} (it belongs to another repository)`);
    }
    return new RepositoryReader(backend, config, bytes, rk);
  }

  /** A writer's credential for this repository (a restored machine carries on backing up to it). */
  credential(repository: string, token?: string): WriterCredential {
    return { repository, repositoryId: this.config.id, configSha256: sha256(this.configBytes), ...this.writerSecrets, ...(token ? { token } : {}) };
  }

  /** A chunk's content, checked: it must open (AES-GCM, bound to its name) and hash to its own id. */
  async chunk(id: string): Promise<Buffer> {
    const name = `data/${id}`;
    const plain = unpack(name, this.opener.open(name, await this.backend.get(name)));
    if (chunkId(this.idKey, plain) !== id) throw new TamperedObjectError(`${name}: its content does not match its id`);
    return plain;
  }

  async *stream(ids: string[]): AsyncGenerator<Buffer> {
    // One chunk fetched ahead of the one being used: network and decryption overlap.
    let next = ids.length > 0 ? this.chunk(ids[0]) : undefined;
    for (let i = 0; i < ids.length; i++) {
      const current = next!;
      next = i + 1 < ids.length ? this.chunk(ids[i + 1]) : undefined;
      next?.catch(() => undefined);
      yield await current;
    }
  }

  async readAll(ids: string[]): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const p of this.stream(ids)) parts.push(p);
    return Buffer.concat(parts);
  }

  async snapshot(name: string): Promise<Manifest> {
    const b = await this.backend.get(name);
    if (b.length < 68 || !b.subarray(0, 4).equals(SNAPSHOT_MAGIC)) throw new TamperedObjectError(`${name}: not a snapshot manifest`);
    const body = b.subarray(68);
    const signed = Buffer.concat([Buffer.from(`carewall-snapshot\n${name}\n`), body]);
    if (!crypto.verify(null, signed, ed25519Public(Buffer.from(this.config.signer, 'base64')), b.subarray(4, 68))) {
      throw new TamperedObjectError(`${name}: the manifest's signature does not hold`);
    }
    return JSON.parse(unpack(name, this.opener.open(name, body)).toString('utf8')) as Manifest;
  }

  /** Every snapshot, oldest first; a manifest that fails its checks is reported, not skipped silently. */
  async snapshots(): Promise<{ snapshots: SnapshotInfo[]; problems: Array<{ name: string; problem: string }> }> {
    const snapshots: SnapshotInfo[] = [];
    const problems: Array<{ name: string; problem: string }> = [];
    for (const name of await this.backend.list('snapshots/')) {
      try {
        snapshots.push({ name, manifest: await this.snapshot(name) });
      } catch (err) {
        problems.push({ name, problem: (err as Error).message });
      }
    }
    snapshots.sort((a, b) => a.manifest.time.localeCompare(b.manifest.time));
    return { snapshots, problems };
  }

  async putEvidence(evidence: Record<string, unknown>): Promise<string> {
    const name = `evidence/${new Date().toISOString().replace(/[:.]/g, '-')}-${crypto.randomBytes(4).toString('hex')}`;
    const body = Buffer.from(JSON.stringify(evidence));
    const signature = crypto.sign(null, Buffer.concat([Buffer.from(`carewall-evidence\n${name}\n`), body]), this.recovery.evidence);
    await this.backend.put(name, Buffer.concat([EVIDENCE_MAGIC, signature, body]));
    return name;
  }
}

export { WrongRecoveryKeyError, TamperedObjectError };
