/**
 * Signed checkpoints of the audit log (C2SP tlog-checkpoint, signed as a C2SP signed-note with an
 * Ed25519 key). The key is made on first start, sealed with the installation's general data key
 * (so a copy of the database alone cannot sign), and shared by every process of the installation.
 *
 * The log never signs two inconsistent checkpoints: before signing a new tree head, the root the
 * stored subtree hashes give at the size of the latest signed checkpoint must equal that
 * checkpoint's root. If it does not, the stored tree was changed after it was signed, and nothing
 * is signed until a person has looked (`carewall audit verify` names the first bad index).
 */
import crypto from 'node:crypto';
import type { Database } from '../db/index.js';
import { toBuffer } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import type { Logger } from '../log.js';
import type { MerkleLog } from './log.js';
import { rootAt } from './merkle.js';
import { formatCheckpoint, generateSignerKey, parseCheckpoint, signNote } from './note.js';

const SIGNER_CONTEXT = 'audit:signer';
/** Advisory lock key serialising checkpoint signing across processes. */
const SIGNING_LOCK = 0x6175646974n + 1n;

export class AuditTamperedError extends Error {}

export interface CheckpointSettings {
  /** How often a process signs a new checkpoint while records arrive (seconds). */
  intervalSeconds: number;
  /** tlog-witness endpoints (their base URL; `add-checkpoint` is appended) that receive each new checkpoint. */
  witnesses: string[];
}

interface Signer {
  name: string;
  vkey: string;
  skey: string;
}

export class Checkpointer {
  private signerCache?: Signer;
  private timer?: NodeJS.Timeout;
  private readonly witnessSizes = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly keyring: Keyring,
    private readonly log: MerkleLog,
    private readonly settings: CheckpointSettings,
    private readonly logger: Logger,
  ) {}

  /** The signing key, made (once, for the whole installation) if there is none yet. */
  async signer(): Promise<Signer> {
    if (this.signerCache) return this.signerCache;
    let row = (await this.db.query<{ name: string; vkey: string; sealed_key: unknown }>('select name, vkey, sealed_key from audit_signer where id = 1'))
      .rows[0];
    if (!row) {
      // The origin names this installation's log: unique, so checkpoints of two clinics never mix.
      const name = `carewall.local/audit/${crypto.randomBytes(6).toString('hex')}`;
      const { signer, verifier } = generateSignerKey(name);
      await this.db.query('insert into audit_signer (id, name, vkey, sealed_key) values (1, $1, $2, $3) on conflict (id) do nothing', [
        name,
        verifier,
        this.keyring.sealGeneral(signer, SIGNER_CONTEXT),
      ]);
      row = (await this.db.query<{ name: string; vkey: string; sealed_key: unknown }>('select name, vkey, sealed_key from audit_signer where id = 1')).rows[0];
    }
    const skey = this.keyring.openGeneral(toBuffer(row.sealed_key), SIGNER_CONTEXT).toString('utf8');
    this.signerCache = { name: row.name, vkey: row.vkey, skey };
    return this.signerCache;
  }

  async verifierKey(): Promise<string> {
    return (await this.signer()).vkey;
  }

  /** The latest signed checkpoint, exactly as signed. */
  async latest(): Promise<{ size: number; root: Buffer; note: string } | undefined> {
    const r = await this.db.query<{ size: string | number; root: unknown; note: string }>(
      'select size, root, note from audit_checkpoint order by size desc limit 1',
    );
    const row = r.rows[0];
    return row ? { size: Number(row.size), root: toBuffer(row.root), note: row.note } : undefined;
  }

  /**
   * Signs the current tree head if it is newer than the latest checkpoint (and consistent with it);
   * returns the latest checkpoint either way.
   */
  async checkpoint(): Promise<string> {
    const signer = await this.signer();
    const note = await this.db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1::bigint)', [SIGNING_LOCK.toString()]);
      const head = await this.log.head(tx);
      const last = (
        await tx.query<{ size: string | number; root: unknown; note: string }>('select size, root, note from audit_checkpoint order by size desc limit 1')
      ).rows[0];
      if (last && Number(last.size) >= head.size) return last.note;
      if (last) {
        const rootThen = await rootAt(this.log.nodes(tx), Number(last.size));
        if (!rootThen.equals(toBuffer(last.root))) {
          throw new AuditTamperedError(`the stored audit tree no longer matches the checkpoint signed at size ${Number(last.size)}: not signing`);
        }
      }
      const body = formatCheckpoint({ origin: signer.name, size: head.size, root: head.root });
      const signed = signNote(body, signer.skey);
      await tx.query('insert into audit_checkpoint (size, root, note) values ($1, $2, $3)', [head.size, head.root, signed]);
      return signed;
    });
    return note;
  }

  /**
   * The signature lines a witness answered ("— <name> <base64 signature>"), kept with the size they
   * cosign. Not checked here: which witnesses to trust, and their keys, is the verifier's choice.
   */
  private async keepCosignatures(witness: string, size: number, body: string): Promise<void> {
    const lines = body.split('\n').filter((l) => /^\u2014 [^\s]{1,200} [A-Za-z0-9+/]{20,400}={0,2}$/.test(l));
    for (const line of lines.slice(0, 8))
      await this.db.query('insert into audit_cosignature (size, witness, line) values ($1, $2, $3) on conflict do nothing', [size, witness, line]);
  }

  /** The latest checkpoint with every witness's cosignature on it appended (C2SP tlog-cosignature), or undefined before the first. */
  async cosigned(): Promise<string | undefined> {
    const latest = await this.latest();
    if (!latest) return undefined;
    const lines = await this.db.query<{ line: string }>('select line from audit_cosignature where size = $1 order by witness, line', [latest.size]);
    return latest.note + lines.rows.map((r) => `${r.line}\n`).join('');
  }

  /** Every few seconds: a new checkpoint if records arrived, handed to the witnesses. */
  start(): void {
    if (this.timer || this.settings.intervalSeconds <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.settings.intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    try {
      // Records a crash or an outage left staged go into the tree before it is signed.
      await this.log.sequenceLeftovers();
      const before = await this.latest();
      const head = await this.log.head();
      if (before && before.size >= head.size) return;
      if (!before && head.size === 0) return;
      const note = await this.checkpoint();
      await this.sendToWitnesses(note);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'audit checkpoint not signed');
    }
  }

  /**
   * C2SP tlog-witness add-checkpoint: "old <size>", the consistency proof from that size (one
   * base64 hash a line), a blank line, then the checkpoint. A witness that knows another size
   * answers 409 with it in the body; we retry once from there.
   */
  async sendToWitnesses(note: string): Promise<void> {
    const cp = parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1));
    for (const base of this.settings.witnesses) {
      const url = `${base.replace(/\/$/, '')}/add-checkpoint`;
      for (let attempt = 0; attempt < 2; attempt++) {
        const old = this.witnessSizes.get(url) ?? 0;
        const proof = old > 0 && old < cp.size ? await this.log.consistencyProof(old, cp.size) : [];
        const body = `old ${old}\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${note}`;
        try {
          const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
          if (res.ok) {
            this.witnessSizes.set(url, cp.size);
            await this.keepCosignatures(url, cp.size, await res.text());
            break;
          }
          if (res.status === 409) {
            const known = Number((await res.text()).trim());
            if (Number.isSafeInteger(known) && known >= 0) this.witnessSizes.set(url, known);
            continue;
          }
          this.logger.warn({ witness: url, status: res.status }, 'audit witness refused the checkpoint');
          break;
        } catch (err) {
          this.logger.warn({ witness: url, err: (err as Error).message }, 'audit witness unreachable');
          break;
        }
      }
    }
  }
}
