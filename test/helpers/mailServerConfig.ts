/**
 * The configuration files of the private Postfix and Dovecot that mailServers.ts starts: pure text
 * from the folders, ports and options, so that what the test instances are is readable in one place.
 * Nothing here refers to /etc/postfix or /etc/dovecot: both daemons are started with their own
 * configuration (`master -c`, `dovecot -c`), so the distribution's instances, running or not,
 * share nothing with them.
 */
import path from 'node:path';

export interface MailLayout {
  /** The temporary folder holding everything (0711: the daemons' users traverse it, nobody lists it). */
  root: string;
  domain: string;
  smtpPort: number;
  imapPort: number;
  /** Requires SMTP AUTH (Dovecot SASL) for every message, rather than trusting loopback clients. */
  requireAuth: boolean;
  /** Certificate and key files for STARTTLS on both sides; undefined: plain text only. */
  tls?: { cert: string; key: string };
  /** The Dovecot user whose mailbox is the shared Report folder's reader. */
  reportUser: string;
  /** A random word both greetings carry: readiness is this instance answering, not whatever took the port. */
  instance: string;
}

export const dirs = (root: string) => ({
  postfixConfig: path.join(root, 'postfix', 'etc'),
  postfixQueue: path.join(root, 'postfix', 'spool'),
  postfixData: path.join(root, 'postfix', 'data'),
  dovecot: path.join(root, 'dovecot'),
  // Short on purpose: unix socket paths are limited to 107 bytes.
  dovecotRun: path.join(root, 'run'),
  mail: path.join(root, 'mail'),
  publicMail: path.join(root, 'mail', 'public'),
});

/** Postfix's recipient table (texthash: read as is, no postmap step): one accepted address a line. */
export const recipientTable = (addresses: string[]) => addresses.map((a) => `${a} ok\n`).join('');

export function postfixMain(l: MailLayout): string {
  const d = dirs(l.root);
  const refuse = `error:5.7.1 this test relay delivers only to ${l.domain}`;
  const tls = l.tls
    ? [`smtpd_tls_security_level = may`, `smtpd_tls_cert_file = ${l.tls.cert}`, `smtpd_tls_key_file = ${l.tls.key}`, `smtpd_tls_loglevel = 0`]
    : [`smtpd_tls_security_level = none`];
  return [
    `compatibility_level = 3.6`,
    `queue_directory = ${d.postfixQueue}`,
    `data_directory = ${d.postfixData}`,
    // Logged through postlogd into a file of its own: no syslog is needed, and a failure quotes it.
    `maillog_file = ${path.join(l.root, 'postfix.log')}`,
    `maillog_file_prefixes = ${l.root}`,
    `myhostname = mx.${l.domain}`,
    `mydomain = ${l.domain}`,
    `myorigin = $mydomain`,
    `inet_interfaces = 127.0.0.1`,
    `inet_protocols = ipv4`,
    // No local delivery and no outbound mail: the domain's mailboxes are Dovecot's, everything else is refused.
    `mydestination =`,
    `local_recipient_maps =`,
    `local_transport = ${refuse}`,
    `default_transport = ${refuse}`,
    `relay_transport = ${refuse}`,
    `virtual_mailbox_domains = ${l.domain}`,
    `virtual_mailbox_maps = texthash:${path.join(d.postfixConfig, 'recipients')}`,
    `virtual_transport = lmtp:unix:${path.join(d.dovecotRun, 'lmtp')}`,
    // With AUTH required, loopback is not trusted: an unauthenticated client is refused at RCPT.
    `mynetworks = ${l.requireAuth ? '' : '127.0.0.0/8'}`,
    `smtpd_sasl_auth_enable = yes`,
    `smtpd_sasl_type = dovecot`,
    `smtpd_sasl_path = ${path.join(d.dovecotRun, 'smtp-auth')}`,
    `smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination`,
    // An unknown mailbox is refused at RCPT (550, "User unknown"): the sender learns it at once, as a bounce.
    `smtpd_recipient_restrictions = reject_unlisted_recipient, ${l.requireAuth ? 'permit_sasl_authenticated, reject' : 'permit_mynetworks, reject'}`,
    ...tls,
    `smtpd_banner = $myhostname ESMTP carewall-test ${l.instance}`,
    `biff = no`,
    `append_dot_mydomain = no`,
    `delay_warning_time = 0`,
    // If Dovecot's LMTP ever answers 4xx, the retry comes within a second or two rather than minutes.
    `queue_run_delay = 1s`,
    `minimal_backoff_time = 1s`,
    `maximal_backoff_time = 2s`,
    ``,
  ].join('\n');
}

/**
 * Only the services this relay uses, none chrooted (Debian's own master.cf chroots smtpd, which
 * would need copies of /etc files inside the spool). The SMTP listener is on the chosen port.
 */
export function postfixMaster(l: MailLayout): string {
  return [
    `127.0.0.1:${l.smtpPort} inet n - n - - smtpd`,
    `cleanup   unix  n - n -   0 cleanup`,
    `qmgr      unix  n - n 300 1 qmgr`,
    `tlsmgr    unix  - - n 1000? 1 tlsmgr`,
    `rewrite   unix  - - n -   - trivial-rewrite`,
    `bounce    unix  - - n -   0 bounce`,
    `defer     unix  - - n -   0 bounce`,
    `trace     unix  - - n -   0 bounce`,
    `verify    unix  - - n -   1 verify`,
    `flush     unix  n - n 1000? 0 flush`,
    `proxymap  unix  - - n -   - proxymap`,
    `proxywrite unix - - n -   1 proxymap`,
    `lmtp      unix  - - n -   - lmtp`,
    `error     unix  - - n -   - error`,
    `retry     unix  - - n -   - error`,
    `discard   unix  - - n -   - discard`,
    `anvil     unix  - - n -   1 anvil`,
    `scache    unix  - - n -   1 scache`,
    `postlog   unix-dgram n - n - 1 postlogd`,
    ``,
  ].join('\n');
}

/**
 * Dovecot 2.3: IMAP on the chosen port, LMTP and the SASL socket for Postfix under `run`, Maildir
 * storage, users from a passwd-file. Every mailbox is stored as the `mail` user (uid 8, present on
 * every Debian system from base-passwd): Dovecot refuses uid 0 for mail, and a fixed existing uid
 * means neither the CI script nor the test has to create a user. `first_valid_uid = 1` lets uid 8 in.
 *
 * A public namespace `Public/` holds the shared `Report` folder: with the ACL plugin every user may
 * see it and insert (IMAP MOVE/COPY) into it, but only the report user may read it, so staff
 * cannot read each other's reports.
 */
export function dovecotConf(l: MailLayout): string {
  const d = dirs(l.root);
  const ssl = l.tls ? [`ssl = yes`, `ssl_cert = <${l.tls.cert}`, `ssl_key = <${l.tls.key}`] : [`ssl = no`];
  return `
base_dir = ${d.dovecotRun}
state_dir = ${path.join(d.dovecot, 'state')}
log_path = ${path.join(l.root, 'dovecot.log')}
protocols = imap lmtp
login_greeting = carewall-test ${l.instance}
listen = 127.0.0.1
${ssl.join('\n')}
# Plain-text login on loopback is accepted (with or without STARTTLS): these are test mailboxes.
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password is answered at once (Dovecot waits 2 s by default, against guessing): tests try one on purpose.
auth_failure_delay = 0
mail_uid = mail
mail_gid = mail
first_valid_uid = 1
mail_location = maildir:~/Maildir
# Test mail is thrown away: fsync only slows every delivery down.
mail_fsync = never
mail_plugins = acl
# A master user (Dovecot's way for an administrator to open any mailbox: SASL PLAIN with the
# mailbox as authorisation identity), for the security administrator's search of every mailbox.
# pass = yes: the mailbox must also exist in the regular passdb.
passdb {
  driver = passwd-file
  master = yes
  pass = yes
  args = scheme=PLAIN ${path.join(d.dovecot, 'master-passwd')}
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${path.join(d.dovecot, 'passwd')}
}
userdb {
  driver = static
  args = uid=mail gid=mail home=${d.mail}/%d/%n
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    auto = create
    special_use = \\Sent
  }
}
namespace public {
  type = public
  separator = /
  prefix = Public/
  location = maildir:${d.publicMail}
  subscriptions = no
  list = yes
}
plugin {
  acl = vfile
  # The ACL plugin checks a master user's rights as the master user's own, who owns no mailbox:
  # checked as the mailbox's owner instead (Dovecot's documented option), the search reads the
  # INBOX it opened; the shared Report folder stays closed to it, as to its owner.
  acl_user = %u
}
protocol imap {
  mail_plugins = $mail_plugins imap_acl
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${l.imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service auth {
  unix_listener smtp-auth {
    mode = 0666
  }
}
`;
}

/** The ACL file of the shared Report folder: everyone may find it and put messages in; the report user reads and cleans it. */
export const reportAcl = (reportUser: string) => `anyone li\nuser=${reportUser} lrwstipekxa\n`;
