/**
 * For the database-outage tests: a real `carewall start` process on a given PostgreSQL address with
 * a clinician and a patient, and loops of writes and reads against it that note what was
 * acknowledged and everything else that came back.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { call, currentOtp, tempDir, PASSWORD } from './harness.js';
import { runCli, startCli, type CliServer } from './cli.js';
import { observation, patient } from './fixtures.js';

export interface Clinic {
  server: CliServer;
  dataDir: string;
  env: Record<string, string>;
  token: string;
  patientId: string;
}

/** Initialises an installation on `databaseUrl`, starts it, and signs in a clinician of one patient. */
export async function startClinic(databaseUrl: string): Promise<Clinic> {
  const dataDir = tempDir();
  const env = { DATABASE_URL: databaseUrl };
  const init = await runCli(['init', '--data-dir', dataDir, '--admin-user', 'root-admin', '--admin-password-stdin', '--json'], { env, input: PASSWORD });
  assert.equal(init.code, 0, init.stderr);
  const { totpUri } = JSON.parse(init.stdout);
  // The background jobs that query (checkpoints, the live monitor) run every second, so that they
  // run during the outages too.
  const settingsFile = path.join(dataDir, 'carewall.json');
  const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
  fs.writeFileSync(settingsFile, JSON.stringify({ ...settings, audit: { intervalSeconds: 1 }, monitor: { intervalSeconds: 1 } }));
  const server = await startCli(['start', '--data-dir', dataDir, '--port', '0'], env);
  const json = { 'content-type': 'application/json' };
  const login = async (username: string, otp?: string) => {
    const res = await call(server.url, 'POST', '/api/session', { body: { username, password: PASSWORD, otp }, headers: json });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.token as string;
  };
  const admin = await login('root-admin', currentOtp(totpUri));
  const practitioner = await call(server.url, 'POST', '/fhir/Practitioner', {
    token: admin,
    body: { resourceType: 'Practitioner', name: [{ family: 'Outage' }] },
  });
  assert.equal(practitioner.status, 201);
  const gp = `Practitioner/${practitioner.body.id}`;
  const user = await call(server.url, 'POST', '/api/users', {
    token: admin,
    body: { username: 'dr-outage', password: PASSWORD, roles: ['physician'], practitioner: gp },
    headers: json,
  });
  assert.equal(user.status, 201, JSON.stringify(user.body));
  const token = await login('dr-outage');
  const p = await call(server.url, 'POST', '/fhir/Patient', { token, body: patient('Outagetest', 'Philippa', { generalPractitioner: [{ reference: gp }] }) });
  assert.equal(p.status, 201);
  return { server, dataDir, env, token, patientId: p.body.id };
}

export function alive(clinic: Clinic): boolean {
  return clinic.server.child.exitCode === null && clinic.server.child.signalCode === null;
}

/** Polls until `cond` holds; fails (with the server's output) after `ms`, or at once if the server died. */
export async function waitFor(clinic: Clinic, what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (!alive(clinic)) assert.fail(`the Carewall process exited while waiting for ${what}:\n${clinic.server.output().slice(-3000)}`);
    if (await cond()) return;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** What a 503 must look like: a Retry-After of a few seconds and a body that names no database error. */
export function checkUnavailable(res: { status: number; headers: Headers; body: unknown }, fhir: boolean): string | undefined {
  const retry = Number(res.headers.get('retry-after'));
  if (!Number.isInteger(retry) || retry < 1 || retry > 30) return `503 without a Retry-After of a few seconds (${res.headers.get('retry-after')})`;
  const text = JSON.stringify(res.body);
  if (/ECONN|EPIPE|terminat|connect|57P0|socket/i.test(text)) return `503 body quotes the database error: ${text}`;
  if (fhir) {
    const b = res.body as { resourceType?: string; issue?: Array<{ code?: string }> };
    if (b?.resourceType !== 'OperationOutcome' || b.issue?.[0]?.code !== 'transient') return `503 body is not a transient OperationOutcome: ${text}`;
  } else if (typeof (res.body as { error?: unknown })?.error !== 'string') return `503 body is not {error}: ${text}`;
  return undefined;
}

/** Loops of `POST /fhir/Observation` and of reads, until stopped. */
export class Load {
  readonly acked: Array<{ id: string; value: number }> = [];
  unavailable = 0;
  reads = 0;
  /** Anything but success or a well-formed 503: a 500, a malformed 503, a dropped connection. */
  readonly unexpected: string[] = [];
  private stopping = false;
  private loops: Promise<void>[] = [];
  private n = 0;

  constructor(private readonly clinic: Clinic) {}

  start(writers = 6, readers = 2): void {
    for (let i = 0; i < writers; i++) this.loops.push(this.loop(() => this.write()));
    for (let i = 0; i < readers; i++) this.loops.push(this.loop(() => this.read()));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    this.loops = [];
    this.stopping = false;
  }

  private async loop(step: () => Promise<void>): Promise<void> {
    while (!this.stopping) {
      try {
        await step();
      } catch (err) {
        // The server closed the connection or is not listening: it has most likely exited.
        this.unexpected.push(`request failed: ${(err as Error).message}`);
        return;
      }
    }
  }

  private async write(): Promise<void> {
    const value = ++this.n;
    const { url } = this.clinic.server;
    const res = await call(url, 'POST', '/fhir/Observation', { token: this.clinic.token, body: observation(this.clinic.patientId, '8867-4', value) });
    if (res.status === 201) this.acked.push({ id: res.body.id, value });
    else await this.other(res);
  }

  private async read(): Promise<void> {
    const { url } = this.clinic.server;
    const last = this.acked[this.acked.length - 1];
    const path = last && this.reads % 2 === 0 ? `/fhir/Observation/${last.id}` : `/fhir/Observation?patient=${this.clinic.patientId}&_count=5`;
    const res = await call(url, 'GET', path, { token: this.clinic.token });
    if (res.status === 200) this.reads++;
    else await this.other(res);
  }

  private async other(res: { status: number; headers: Headers; body: unknown }): Promise<void> {
    if (res.status !== 503) {
      this.unexpected.push(`${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
      return;
    }
    const wrong = checkUnavailable(res, true);
    if (wrong) this.unexpected.push(wrong);
    this.unavailable++;
    // A client backing off, briefly: refused connections answer at once and would spin.
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every acknowledged write is readable with the value written. */
export async function assertAllReadable(clinic: Clinic, acked: Array<{ id: string; value: number }>): Promise<void> {
  const queue = [...acked];
  const reader = async () => {
    for (let a = queue.pop(); a; a = queue.pop()) {
      const res = await call(clinic.server.url, 'GET', `/fhir/Observation/${a.id}`, { token: clinic.token });
      assert.equal(res.status, 200, `acknowledged write ${a.id} not readable (${res.status})`);
      assert.equal(res.body.valueQuantity.value, a.value);
    }
  };
  await Promise.all([reader(), reader(), reader(), reader()]);
}

export async function assertAuditVerifies(clinic: Clinic): Promise<void> {
  const verify = await runCli(['audit', 'verify', '--data-dir', clinic.dataDir], { env: clinic.env });
  assert.equal(verify.code, 0, `audit verify failed:\n${verify.stdout}\n${verify.stderr}`);
  assert.match(verify.stdout, /audit log verified/);
}

/**
 * Whether the server's background jobs that query (checkpoints, the live monitor; every second
 * here) have run into the outage since the output had `from` characters: they must log it and go on.
 */
export function backgroundJobsFailedSince(clinic: Clinic, from: number): boolean {
  const out = clinic.server.output().slice(from);
  return out.includes('audit checkpoint not signed') && out.includes('monitor: live scan failed');
}

/** Waits until the background jobs have caught up with the whole audit log: a checkpoint signed of it, the monitor past it. */
export async function awaitBackgroundJobsCaughtUp(clinic: Clinic, directUrl: string): Promise<void> {
  const c = new pg.Client({ connectionString: directUrl });
  await c.connect();
  try {
    const size = Number((await c.query('select size from audit_tree where id = 1')).rows[0].size);
    await waitFor(clinic, 'a checkpoint of the whole log, and the monitor past it', async () => {
      const cp = Number((await c.query('select coalesce(max(size), 0) as n from audit_checkpoint')).rows[0].n);
      const mon = Number((await c.query('select next_index from monitor_cursor where id = 1')).rows[0]?.next_index ?? 0);
      return cp >= size && mon >= size;
    });
  } finally {
    await c.end();
  }
}
