/**
 * The private mail system of test/helpers/mailServers.ts, proven with the clients the product uses:
 * nodemailer sends through Postfix, imapflow reads Dovecot's mailboxes. Deliveries go through
 * Postfix's queue, so each arrival is polled for (never a pause).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { startMailServers, type MailAccount, type MailServers } from './helpers/mailServers.js';
import { until } from './helpers/poll.js';

const domain = 'clinic.test';
let mail: MailServers;

before(async () => {
  mail = await startMailServers({ domain, mailboxes: ['alice', 'bob', 'carol'] });
});
after(async () => {
  await mail?.stop();
});

function smtp(servers: MailServers, auth?: { user: string; pass: string }) {
  // requireTLS: STARTTLS or nothing, trusting only the test's own self-signed certificate.
  return nodemailer.createTransport({ host: servers.smtp.host, port: servers.smtp.port, secure: false, requireTLS: true, tls: { ca: servers.ca }, auth });
}

async function imap(servers: MailServers, account: MailAccount): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: servers.imap.host,
    port: servers.imap.port,
    secure: false,
    doSTARTTLS: true,
    tls: { ca: servers.ca },
    auth: { user: account.address, pass: account.password },
    logger: false,
  });
  await client.connect();
  return client;
}

/** The raw messages of `mailbox` whose Message-ID is `messageId`, polled until there is one. */
async function arrived(servers: MailServers, account: MailAccount, messageId: string, mailbox = 'INBOX'): Promise<{ uid: number; source: string }> {
  const client = await imap(servers, account);
  try {
    let found: { uid: number; source: string } | undefined;
    await until(
      () => `${messageId} to arrive in ${account.address}'s ${mailbox}\n${servers.logs()}`,
      async () => {
        await client.mailboxOpen(mailbox);
        for await (const m of client.fetch('1:*', { envelope: true, source: true, uid: true })) {
          if (m.envelope?.messageId === messageId && m.source) found = { uid: m.uid, source: m.source.toString('utf8') };
        }
        await client.mailboxClose();
        return found !== undefined;
      },
      { tries: 100, every: 100 },
    );
    return found!;
  } finally {
    await client.logout();
  }
}

test('one message to three mailboxes arrives in each, read over IMAP with STARTTLS', async () => {
  const info = await smtp(mail).sendMail({
    from: `IT <it@${domain}>`,
    to: mail.users.map((u) => u.address),
    subject: 'Password expiry',
    text: 'Your password expires today.',
  });
  assert.deepEqual([...info.accepted].sort(), mail.users.map((u) => u.address).sort());
  assert.deepEqual(info.rejected, []);
  for (const user of mail.users) {
    const { source } = await arrived(mail, user, info.messageId);
    assert.match(source, /^Subject: Password expiry$/m);
    assert.match(source, /Your password expires today\./);
  }
});

test('a mailbox that does not exist is refused at RCPT: the sender learns of the bounce at once', async () => {
  const mixed = await smtp(mail).sendMail({ from: `it@${domain}`, to: [`nobody@${domain}`, mail.users[0]!.address], subject: 'half', text: 'x' });
  assert.deepEqual(mixed.accepted, [mail.users[0]!.address]);
  assert.deepEqual(mixed.rejected, [`nobody@${domain}`]);
  const [rejection] = (mixed as unknown as { rejectedErrors: Array<{ responseCode: number; response: string }> }).rejectedErrors;
  assert.equal(rejection?.responseCode, 550);
  assert.match(rejection?.response ?? '', /User unknown/);

  await assert.rejects(
    smtp(mail).sendMail({ from: `it@${domain}`, to: `nobody@${domain}`, subject: 'none', text: 'x' }),
    (error: { code?: string; responseCode?: number }) => {
      assert.equal(error.code, 'EENVELOPE');
      assert.equal(error.responseCode, 550);
      return true;
    },
  );
  // Nor does this relay send anywhere else.
  await assert.rejects(smtp(mail).sendMail({ from: `it@${domain}`, to: 'someone@example.org', subject: 'out', text: 'x' }), { code: 'EENVELOPE' });
});

test('a user reports a message by sending it as an attachment (message/rfc822) to the report mailbox', async () => {
  const [alice] = mail.users;
  const phish = await smtp(mail).sendMail({ from: `"Payroll" <payroll@${domain}>`, to: alice!.address, subject: 'Bonus waiting', text: 'Click here' });
  const { source } = await arrived(mail, alice!, phish.messageId);

  const forward = await smtp(mail).sendMail({
    from: alice!.address,
    to: mail.report.address,
    subject: 'Suspicious: Bonus waiting',
    text: 'This looks like phishing.',
    attachments: [{ filename: 'reported.eml', content: source, contentType: 'message/rfc822' }],
  });
  const report = await arrived(mail, mail.report, forward.messageId);
  assert.match(report.source, /Content-Type: message\/rfc822/);
  // The original travels whole inside the report: its own Message-ID, as the triage needs it.
  assert.ok(report.source.includes(`Message-ID: ${phish.messageId}`));
});

test('a user reports a message by MOVE into the shared Public/Report folder, which only the report mailbox reads', async () => {
  const [, bob] = mail.users;
  const phish = await smtp(mail).sendMail({ from: `it-helpdesk@${domain}`, to: bob!.address, subject: 'Mailbox full', text: 'Log in to keep your mail' });
  const { uid } = await arrived(mail, bob!, phish.messageId);

  const client = await imap(mail, bob!);
  try {
    await client.mailboxOpen('INBOX');
    const moved = await client.messageMove(String(uid), mail.reportFolder, { uid: true });
    assert.ok(moved, 'the MOVE was refused');
    const left = await client.search({ header: { 'message-id': phish.messageId } }, { uid: true });
    assert.deepEqual(left, [], 'the reported message left the INBOX');
    // Bob may put messages in, not read what anyone reported.
    await assert.rejects(client.mailboxOpen(mail.reportFolder));
  } finally {
    await client.logout();
  }
  const reported = await arrived(mail, mail.report, phish.messageId, mail.reportFolder);
  assert.match(reported.source, /^Subject: Mailbox full$/m);
});

test('with AUTH required, an unauthenticated client is refused and the configured account delivers', async () => {
  const strict = await startMailServers({ domain: 'auth.test', mailboxes: ['dana'], requireAuth: true });
  try {
    assert.ok(strict.smtp.user && strict.smtp.pass, 'an SMTP account is given');
    const [dana] = strict.users;
    await assert.rejects(smtp(strict).sendMail({ from: 'it@auth.test', to: dana!.address, subject: 'anon', text: 'x' }), { code: 'EENVELOPE' });
    const info = await smtp(strict, { user: strict.smtp.user!, pass: strict.smtp.pass! }).sendMail({
      from: 'it@auth.test',
      to: dana!.address,
      subject: 'authenticated',
      text: 'x',
    });
    assert.deepEqual(info.accepted, [dana!.address]);
    const { source } = await arrived(strict, dana!, info.messageId);
    assert.match(source, /^Subject: authenticated$/m);
    // Last: after a failed login Dovecot delays that client address's next logins (its auth
    // penalty, seconds long), which would only slow the rest of the test down.
    await assert.rejects(
      smtp(strict, { user: strict.smtp.user!, pass: 'wrong' }).sendMail({ from: 'it@auth.test', to: dana!.address, subject: 'bad', text: 'x' }),
      {
        code: 'EAUTH',
      },
    );
  } finally {
    await strict.stop();
  }
});

test('stop() ends both daemons and removes their folder', async () => {
  const brief = await startMailServers({ domain: 'brief.test', mailboxes: ['eve'], tls: false });
  assert.ok(fs.existsSync(brief.folder));
  await brief.stop();
  assert.equal(fs.existsSync(brief.folder), false, 'the folder is removed');
  for (const port of [brief.smtp.port, brief.imap.port]) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(true));
    });
    assert.ok(refused, `nothing answers on ${port} any more`);
  }
});

async function listening(): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

test('a port taken between choosing it and binding it: started again on new ports', async () => {
  const taken = await listening();
  const busy = (taken.address() as net.AddressInfo).port;
  // A port free now for the other daemon: listened on, then let go.
  const spare = await listening();
  const free = (spare.address() as net.AddressInfo).port;
  await new Promise((resolve) => spare.close(resolve));
  try {
    for (const firstPorts of [
      { smtp: busy, imap: free },
      { smtp: free, imap: busy },
    ]) {
      const servers = await startMailServers({ domain: 'ports.test', mailboxes: ['finn'], tls: false, firstPorts });
      try {
        assert.notEqual(servers.smtp.port, busy);
        assert.notEqual(servers.imap.port, busy);
        const info = await nodemailer
          .createTransport({ host: servers.smtp.host, port: servers.smtp.port, secure: false, ignoreTLS: true })
          .sendMail({ from: 'it@ports.test', to: servers.users[0]!.address, subject: 'ports', text: 'x' });
        assert.deepEqual(info.accepted, [servers.users[0]!.address]);
      } finally {
        await servers.stop();
      }
    }
  } finally {
    taken.close();
  }
});
