/**
 * A private mail system for one test process: Debian's Postfix as the SMTP relay for `domain`,
 * delivering over LMTP (a unix socket) to Debian's Dovecot, which serves the Maildir mailboxes over
 * IMAP. Everything (configuration, queue, mail, sockets, logs) lives in one temporary folder, on
 * ports chosen free at run time on 127.0.0.1, so test files running at once never share anything,
 * nor with the system's own instances. The configuration text is in mailServerConfig.ts.
 *
 * Both daemons run in the foreground as children of a small watchdog shell that holds the read end
 * of a pipe from this process: when this process ends in any way (even SIGKILL), the pipe closes and
 * the watchdog terminates its daemon (and Dovecot's removes the folder), so a crashed test leaves no
 * mail server and no files behind. Startup takes about 0.2 s; stop() about 1 s (Dovecot's shutdown).
 *
 * Runs as root (as CI does): Postfix's master and Dovecot drop privileges themselves (to the
 * `postfix`, `dovecot`, `dovenull` users their packages create, and `mail` for mailboxes).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { until } from './poll.js';
import { dirs, dovecotConf, postfixMain, postfixMaster, recipientTable, reportAcl, type MailLayout } from './mailServerConfig.js';

const run = promisify(execFile);

export interface MailAccount {
  address: string;
  password: string;
}

export interface MailServers {
  /** Postfix. `user`/`pass` are set when AUTH is required (an account of its own, not a mailbox). */
  smtp: { host: string; port: number; user?: string; pass?: string };
  imap: { host: string; port: number };
  /** The self-signed certificate (PEM) both daemons offer with STARTTLS, for a client to trust; undefined without TLS. */
  ca?: string;
  users: MailAccount[];
  /** The report mailbox (`report-phishing@domain`): its INBOX takes forwarded reports, and it alone reads `Public/Report`. */
  report: MailAccount;
  /** The shared folder every user may MOVE a message into (and not read), as seen over IMAP. */
  reportFolder: string;
  /** Dovecot's master user: opens any mailbox with SASL PLAIN, the mailbox as authorisation identity. */
  master: { user: string; password: string };
  /** The temporary folder holding both daemons' configuration, queue, mail and logs (removed by stop()). */
  folder: string;
  /** Both daemons' logs so far, for a failing test's message. */
  logs(): string;
  stop(): Promise<void>;
}

export interface MailServerOptions {
  domain: string;
  /** Local parts of the users' mailboxes. */
  mailboxes: string[];
  /** Require SMTP AUTH for every message (the product's "authentication" setting). Default false: loopback is trusted. */
  requireAuth?: boolean;
  /** Offer STARTTLS on SMTP and IMAP with a self-signed certificate made here. Default true. */
  tls?: boolean;
  /** Ports to try first instead of free ones (for proving that a taken port is retried on new ones). */
  firstPorts?: { smtp: number; imap: number };
}

const MASTER = '/usr/lib/postfix/sbin/master';
const DOVECOT = '/usr/sbin/dovecot';
const REPORT_LOCAL = 'report-phishing';
const SENDER_LOCAL = 'carewall-sender';

/** Fails (never skips) with what is missing: a test that needs the mail servers must not pass without them. */
function checkPrerequisites(): void {
  const missing = ['/usr/sbin/postfix', MASTER, DOVECOT, '/usr/lib/dovecot/imap', '/usr/lib/dovecot/lmtp'].filter((f) => !fs.existsSync(f));
  if (missing.length) {
    throw new Error(
      `mail servers unavailable: ${missing.join(', ')} missing; install them with \`bash .ci/mail-packages\` (Debian's postfix, dovecot-imapd, dovecot-lmtpd)`,
    );
  }
  if (process.getuid?.() !== 0) throw new Error('mail servers unavailable: Postfix and Dovecot must be started as root (they drop privileges themselves)');
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The first line a server sends on connecting (with `connectOnly`, '' once connected), or undefined if nothing listens (yet). */
function greeting(port: number, connectOnly = false): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const done = (line: string | undefined) => {
      socket.destroy();
      resolve(line);
    };
    socket.setTimeout(2000, () => done(undefined));
    socket.on('error', () => done(undefined));
    if (connectOnly) socket.on('connect', () => done(''));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const end = data.indexOf('\n');
      if (end >= 0) done(data.slice(0, end).trim());
    });
    socket.on('close', () => done(undefined));
  });
}

/** Postfix's queue folders: name, mode, group (owner: postfix, except pid: root). */
const queueFolders = (postdrop: number): Array<[string, number, number]> => [
  ...['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'private', 'saved', 'trace'].map((n): [string, number, number] => [
    n,
    0o700,
    0,
  ]),
  ['maildrop', 0o730, postdrop],
  ['public', 0o710, postdrop],
  ['pid', 0o755, 0],
];

function groupId(name: string): number {
  const line = fs
    .readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`mail servers unavailable: no \`${name}\` group (the postfix package creates it)`);
  return Number(line.split(':')[2]);
}

const password = () => randomBytes(18).toString('base64url');

function ids(name: string): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`mail servers unavailable: no \`${name}\` user (the postfix and dovecot packages create theirs; \`mail\` comes with base-passwd)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A self-signed certificate for 127.0.0.1 and localhost, valid two days (openssl is a dependency
 * of Debian's postfix and dovecot-core packages, so it is there whenever they are).
 */
async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=carewall test mail', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', key, '-out', cert,
  ]); // prettier-ignore
  fs.chmodSync(key, 0o600);
  return { cert, key };
}

/**
 * Starts `command` under a watchdog: `sh` keeps the pipe from this process as fd 3 and runs the
 * daemon with stdin from /dev/null; a background `cat` reads fd 3 until end of file, which comes
 * when stop() closes it or when this process dies, and then sends the daemon SIGTERM. The watchdog
 * exits once both the daemon and the `cat` are done; given `cleanup`, it then removes that folder,
 * so that a test process that died leaves no files behind either (a daemon that failed on its own
 * leaves its logs until stop(), for the error message).
 */
interface Watched {
  process: ChildProcess;
  /** The daemon's exit status once it has exited (the watchdog says so on stderr). */
  daemonExit(): number | undefined;
}

function watched(command: string[], log: string[], cleanup = ''): Watched {
  const script = [
    'cleanup=$1; shift; exec 3<&0 </dev/null',
    '"$@" & child=$!',
    '{ cat <&3 >/dev/null; kill -TERM "$child" 2>/dev/null; } &',
    // In a subshell: with this process gone, the write raises SIGPIPE, which must not end the watchdog before its cleanup.
    'wait "$child"; rc=$?; (echo "watchdog: daemon exited $rc" >&2)',
    'wait',
    'if [ -n "$cleanup" ]; then rm -rf -- "$cleanup"; fi; exit $rc',
  ].join('\n');
  const child = spawn('sh', ['-c', script, 'watchdog', cleanup, ...command], { stdio: ['pipe', 'pipe', 'pipe'] });
  let exit: number | undefined;
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    const said = /watchdog: daemon exited (\d+)/.exec(text);
    if (said) exit = Number(said[1]);
    log.push(text);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { process: child, daemonExit: () => exit };
}

async function stopWatched({ process: child }: Watched): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  await exited;
}

export async function startMailServers(options: MailServerOptions): Promise<MailServers> {
  checkPrerequisites();
  // A port found free may be taken by another process before the daemon binds it: then again, on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, attempt === 1 ? options.firstPorts : undefined);
    } catch (error) {
      if (attempt === 3 || !/Address already in use/.test(String(error))) throw error;
    }
  }
}

async function startOnce(options: MailServerOptions, ports?: { smtp: number; imap: number }): Promise<MailServers> {
  const { domain, mailboxes } = options;
  if (!/^[a-z0-9.-]+$/i.test(domain) || mailboxes.some((m) => !/^[a-z0-9._-]+$/i.test(m)))
    throw new Error('mail servers: plain ASCII domain and local parts only');
  const requireAuth = options.requireAuth ?? false;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-mail-'));
  // Traversable by the daemons' users (postfix, dovecot, mail), not listable by anyone else.
  fs.chmodSync(root, 0o711);
  const d = dirs(root);
  const output: string[] = [];
  const children: Watched[] = [];
  const readLog = (name: string) => {
    try {
      return fs.readFileSync(path.join(root, name), 'utf8');
    } catch {
      return '';
    }
  };
  const logs = () => `--- postfix.log\n${readLog('postfix.log')}--- dovecot.log\n${readLog('dovecot.log')}--- output\n${output.join('')}`;
  const stop = async () => {
    // Postfix first, so that no delivery is under way when Dovecot goes.
    for (const child of children.reverse()) await stopWatched(child);
    fs.rmSync(root, { recursive: true, force: true });
  };

  try {
    const mail = ids('mail');
    const postfixUser = ids('postfix');
    const dovecotUser = ids('dovecot');
    const tls = options.tls === false ? undefined : await selfSigned(root);
    const [smtpPort, imapPort] = ports ? [ports.smtp, ports.imap] : [await freePort(), await freePort()];
    const users = mailboxes.map((local) => ({ address: `${local}@${domain}`, password: password() }));
    const report = { address: `${REPORT_LOCAL}@${domain}`, password: password() };
    const sender = { address: `${SENDER_LOCAL}@${domain}`, password: password() };
    const instance = randomBytes(6).toString('hex');
    const layout: MailLayout = { root, domain, smtpPort, imapPort, requireAuth, tls, reportUser: report.address, instance };

    // Dovecot: configuration, the passwd-file (readable by the auth process's group only), and the
    // shared Report folder with its ACL, all owned by `mail` like every mailbox.
    for (const dir of [
      d.dovecot,
      d.mail,
      path.join(d.publicMail, '.Report', 'cur'),
      path.join(d.publicMail, '.Report', 'new'),
      path.join(d.publicMail, '.Report', 'tmp'),
    ]) {
      fs.mkdirSync(dir, { recursive: true });
    }
    fs.writeFileSync(path.join(d.dovecot, 'dovecot.conf'), dovecotConf(layout));
    const passwd = path.join(d.dovecot, 'passwd');
    fs.writeFileSync(passwd, [...users, report, sender].map((u) => `${u.address}:{PLAIN}${u.password}\n`).join(''), { mode: 0o640 });
    fs.chownSync(passwd, 0, dovecotUser.gid);
    const master = { user: 'carewall-search', password: password() };
    const masterFile = path.join(d.dovecot, 'master-passwd');
    fs.writeFileSync(masterFile, `${master.user}:{PLAIN}${master.password}\n`, { mode: 0o640 });
    fs.chownSync(masterFile, 0, dovecotUser.gid);
    fs.writeFileSync(path.join(d.publicMail, '.Report', 'dovecot-acl'), reportAcl(report.address));
    for (const p of [d.mail, d.publicMail, path.join(d.publicMail, '.Report')]) fs.chownSync(p, mail.uid, mail.gid);
    for (const sub of ['cur', 'new', 'tmp', 'dovecot-acl']) fs.chownSync(path.join(d.publicMail, '.Report', sub), mail.uid, mail.gid);

    // Dovecot is stopped last (and takes longest, about a second): its watchdog removes the folder.
    children.push(watched([DOVECOT, '-F', '-c', path.join(d.dovecot, 'dovecot.conf')], output, root));
    const dovecot = children[0]!;
    await until(
      () => `Dovecot to greet on 127.0.0.1:${imapPort}\n${logs()}`,
      async () => {
        if (dovecot.daemonExit() !== undefined) throw new Error(`Dovecot exited (${dovecot.daemonExit()}) before greeting\n${logs()}`);
        return (await greeting(imapPort))?.includes(instance) ?? false;
      },
    );

    // Postfix: configuration, the table of accepted recipients, the queue folders with the owners
    // and modes of Postfix's own postfix-files list (made here: `postfix post-install
    // create-missing` does the same through some forty shell commands, up to 2 s on a busy machine).
    for (const dir of [d.postfixConfig, d.postfixQueue, d.postfixData]) fs.mkdirSync(dir, { recursive: true });
    fs.chownSync(d.postfixData, postfixUser.uid, postfixUser.gid);
    fs.chmodSync(d.postfixData, 0o700);
    const postdrop = groupId('postdrop');
    for (const [name, mode, gid] of queueFolders(postdrop)) {
      const dir = path.join(d.postfixQueue, name);
      fs.mkdirSync(dir, { mode });
      fs.chmodSync(dir, mode);
      if (name !== 'pid') fs.chownSync(dir, postfixUser.uid, gid);
    }
    fs.writeFileSync(path.join(d.postfixConfig, 'main.cf'), postfixMain(layout));
    fs.writeFileSync(path.join(d.postfixConfig, 'master.cf'), postfixMaster(layout));
    fs.writeFileSync(path.join(d.postfixConfig, 'recipients'), recipientTable([...users, report].map((u) => u.address)));
    // Postfix re-reads a configuration file written in the current second, every 300 ms until it is
    // older (so as not to read one half-written): dated a minute back, the master starts at once.
    const past = new Date(Date.now() - 60_000);
    for (const f of ['main.cf', 'master.cf', 'recipients']) fs.utimesSync(path.join(d.postfixConfig, f), past, past);
    // -s keeps stdout; the master stays in the foreground unless told otherwise.
    children.push(watched([MASTER, '-c', d.postfixConfig, '-s'], output));
    const postfix = children[1]!;
    await until(
      () => `Postfix to greet on 127.0.0.1:${smtpPort}\n${logs()}`,
      async () => {
        if (postfix.daemonExit() !== undefined) {
          // The master's own complaints go to syslog only (its log file needs postlogd, which it starts later): a taken port is recognised here.
          const taken = (await greeting(smtpPort, true)) !== undefined ? ` (127.0.0.1:${smtpPort}: Address already in use)` : '';
          throw new Error(`Postfix exited (${postfix.daemonExit()}) before greeting${taken}\n${logs()}`);
        }
        return (await greeting(smtpPort))?.startsWith(`220 mx.${domain} ESMTP carewall-test ${instance}`) ?? false;
      },
    );

    return {
      smtp: requireAuth ? { host: '127.0.0.1', port: smtpPort, user: sender.address, pass: sender.password } : { host: '127.0.0.1', port: smtpPort },
      imap: { host: '127.0.0.1', port: imapPort },
      ca: tls ? fs.readFileSync(tls.cert, 'utf8') : undefined,
      users,
      report,
      master,
      reportFolder: 'Public/Report',
      folder: root,
      logs,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
