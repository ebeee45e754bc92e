/**
 * The update repository's commands while `carewall start` (the real binary) serves the data folder:
 * the data-folder commands go through control.sock, the key holders' (`keygen`, `sign`) stay at
 * their desk. `updates root` prints the root a device is provisioned with, the same bytes the
 * server publishes. Bad input is refused with a clear error and changes nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCli, type CliServer } from './helpers/cli.js';
import { prepareInstallation, tempDir } from './helpers/harness.js';
import { Ceremony, device, imageBytes } from './helpers/updates.js';

describe('carewall updates while the server runs on the same data folder', () => {
  let server: CliServer;
  let work: string;
  let c: Ceremony;
  const cleanups: Array<() => Promise<void> | void> = [];
  /** What the repository holds now, as `updates status --json` says. */
  const status = async () => JSON.parse((await c.data(['updates', 'status', '--json'])).stdout);

  before(async () => {
    const inst = await prepareInstallation();
    cleanups.push(inst.cleanup);
    server = await startCli(['start', '--data-dir', inst.dataDir, '--port', '0'], { DATABASE_URL: inst.databaseUrl });
    cleanups.push(() => server.kill('SIGTERM'));
    work = tempDir('carewall-updates-cli-');
    cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
    c = new Ceremony(work, inst.dataDir, { env: { DATABASE_URL: inst.databaseUrl } });
    for (const h of ['root-a', 'root-b', 'root-c', 'targets', 'eng-1']) await c.keygen(h);
  });
  after(async () => {
    for (const f of cleanups.reverse()) await f();
  });

  const rootArgs = (...extra: string[]) => [
    'updates',
    'init-root',
    '--root-key',
    'root-a.key.pub',
    'root-b.key.pub',
    'root-c.key.pub',
    '--targets-key',
    'targets.key.pub',
    ...extra,
  ];

  test('keygen: the private key is the holder’s only (0600), and an existing key file is never replaced', async () => {
    assert.equal(fs.statSync(path.join(work, 'root-a.key')).mode & 0o777, 0o600);
    const before = fs.readFileSync(path.join(work, 'root-a.key'));
    const again = await c.run(['updates', 'keygen', '--out', 'root-a.key'], 1);
    assert.match(again.stderr, /EEXIST|exists/);
    assert.deepEqual(fs.readFileSync(path.join(work, 'root-a.key')), before);
  });

  test('refused before there is a root: nothing to provision, nothing to delegate; a root threshold of 1', async () => {
    assert.match((await c.data(['updates', 'root'], 1)).stderr, /no root yet/);
    assert.match((await c.data(['updates', 'delegate', '--class', 'pump', '--engineer-key', 'eng-1.key.pub', '--out', 'd.json'], 1)).stderr, /no root yet/);
    assert.match((await c.data([...rootArgs('--root-threshold', '1'), '--out', 'r.json'], 1)).stderr, /root threshold must be at least 2/);
    assert.match((await c.data([...rootArgs(), '--root-key', 'root-a.key.pub', '--out', 'r.json'], 1)).stderr, /same key is given twice/);
    assert.match((await c.data([...rootArgs(), '--targets-key', 'root-a.key', '--out', 'r.json'], 1)).stderr, /not JSON/);
    assert.deepEqual(await status(), { published: [], pending: [] });
    assert.ok(!fs.existsSync(path.join(work, 'r.json')) && !fs.existsSync(path.join(work, 'd.json')));
  });

  test('the root ceremony through the running server; `updates root` prints what the server publishes', async () => {
    fs.writeFileSync(path.join(work, 'taken.json'), 'mine');
    assert.match((await c.data([...rootArgs(), '--out', 'taken.json'], 1)).stderr, /taken.json exists already/);
    assert.deepEqual((await status()).pending, [], 'a refused --out proposes nothing');
    const unsigned = await c.propose(rootArgs(), 'root-1.json');
    // A signature that does not verify is refused and not kept.
    const sig = await c.sign('root-a', unsigned);
    const bad = JSON.parse(fs.readFileSync(path.join(work, sig), 'utf8'));
    bad.sig = (bad.sig[0] === '0' ? '1' : '0') + bad.sig.slice(1);
    fs.writeFileSync(path.join(work, 'bad.sig.json'), JSON.stringify(bad));
    assert.match((await c.data(['updates', 'add-signature', '--in', 'bad.sig.json'], 1)).stderr, /does not verify/);
    assert.deepEqual((await status()).pending[0].signedBy, []);
    assert.match(await c.approve(unsigned, ['root-a', 'root-c']), /root version 1 published/);
    const printed = (await c.data(['updates', 'root'])).stdout;
    const served = await (await fetch(`${server.url}/updates/metadata/1.root.json`)).text();
    assert.equal(printed.trim(), served);
    assert.equal(JSON.parse(printed).signed.version, 1);
    assert.ok(!server.output().includes('PRIVATE KEY'));
  });

  test('a release staged and signed through the running server reaches a tuf-js device', async () => {
    assert.match(
      (await c.data(['updates', 'delegate', '--class', 'pump', '--engineer-key', 'eng-1.key.pub', '--life-critical', '--out', 'd.json'], 1)).stderr,
      /life-critical class needs two different engineers/,
    );
    const targets = await c.propose(['updates', 'delegate', '--class', 'pump', '--engineer-key', 'eng-1.key.pub'], 'targets-1.json');
    assert.match(await c.approve(targets, ['targets']), /targets version 1 published/);
    const image = c.writeImage('pump.img', imageBytes('pump 1', 10_000));
    const stage = (name: string, counter: string) => [
      'updates',
      'stage',
      '--without-vendor-signature',
      '--class',
      'pump',
      '--file',
      image,
      '--name',
      name,
      '--hardware-id',
      'P1',
      '--release-counter',
      counter,
      '--min-upgrade-from',
      '1.0',
    ];
    assert.match(
      (await c.data([...stage('fw-1.img', '1'), '--class', 'monitor', '--out', 'x.json'], 1)).stderr,
      /no engineers are assigned device class 'monitor'/,
    );
    const release = await c.propose(stage('fw-1.img', '1'), 'pump-1.json');
    assert.match(await c.approve(release, ['eng-1']), /pump version 1 published/);
    assert.match((await c.data([...stage('fw-1.img', '2'), '--out', 'again.json'], 1)).stderr, /already released; an image is never replaced/);
    assert.match((await c.data([...stage('fw-0.img', '1'), '--out', 'older.json'], 1)).stderr, /must be above 1/);
    assert.deepEqual((await status()).pending, []);
    const d = device((await c.data(['updates', 'root'])).stdout, server.url);
    cleanups.push(() => d.cleanup());
    assert.deepEqual(await d.fetch('pump.fw-1.img'), imageBytes('pump 1', 10_000));
  });

  test('a device registered through the running server is listed, flagged as never reported; its id keeps its key', async () => {
    await c.run(['device', 'init', '--device-key', 'pump-1.key', '--class', 'pump', '--hardware-id', 'P1', '--image-version', '1.0']);
    assert.equal(fs.statSync(path.join(work, 'pump-1.key')).mode & 0o777, 0o600);
    const add = ['updates', 'device', 'add', '--id', 'pump-1', '--public-key', 'pump-1.key.pub', '--hardware-id', 'P1', '--class', 'pump'];
    assert.match((await c.data([...add.slice(0, 6), 'pump-1.key', ...add.slice(7)], 1)).stderr, /not JSON/, 'a private key is not a public key file');
    await c.data(add);
    assert.match((await c.data(add, 1)).stderr, /registered already/);
    const listed = JSON.parse((await c.data(['updates', 'device', 'list', '--json'])).stdout).devices;
    assert.deepEqual(
      listed.map((d: Record<string, unknown>) => [d.id, d.deviceClass, d.hardwareId, d.lastReport, d.flags]),
      [['pump-1', 'pump', 'P1', null, ['never-reported']]],
    );
  });
});
