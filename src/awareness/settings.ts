/**
 * carewall.json's `awareness` settings (docs/awareness.md). Passwords never sit in the file (it is
 * copied into backups and read by support): the relay's and the report mailbox's come from the
 * environment, CAREWALL_SMTP_PASSWORD, CAREWALL_REPORT_MAILBOX_PASSWORD and
 * CAREWALL_MAILBOX_SEARCH_PASSWORD.
 */
import type { Settings } from '../config.js';
import { isTimeZone } from './people.js';

export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the relay offers it. */
  secure: boolean;
  /** Refuse to send unless the relay upgrades to TLS. */
  requireTls: boolean;
  user?: string;
  password?: string;
  /** The relay's certificate is checked unless this is false (a relay on the same host with a self-signed certificate). */
  verifyCertificate: boolean;
}

export interface MailboxSettings {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password?: string;
  verifyCertificate: boolean;
  /** Seconds between looks into the mailbox. */
  pollSeconds: number;
  /**
   * A shared folder staff move suspicious messages into (Dovecot's public namespace, e.g.
   * "Public/Report"), read besides the INBOX where forwarded reports arrive.
   */
  sharedFolder?: string;
}

/** An administrator account of the mail server that may open every mailbox, read-only (Dovecot's master user). */
export interface MailboxSearchSettings {
  host: string;
  port: number;
  secure: boolean;
  masterUser: string;
  password?: string;
  verifyCertificate: boolean;
}

export interface AwarenessSettings {
  /** The clinic's own and its suppliers' domains (triage's look-alike check). */
  domains: string[];
  /** The clinic's zone, for staff whose own is unknown. */
  timeZone: string;
  /** Where staff's browsers reach the tracked links (a name set apart for simulations); this server's publicUrl when unset. */
  trackingUrl?: string;
  smtp?: SmtpSettings;
  /** Messages handed to the relay per minute, at most (all Carewall processes together). */
  sendPerMinute: number;
  /** The "report phishing" mailbox, read over IMAP. */
  reportMailbox?: MailboxSettings;
  /** Address ranges (CIDR) of the mail scanners that follow links (Safe Links and the like). */
  scannerRanges: string[];
  /** For the security administrator's search of every mailbox. */
  mailboxSearch?: MailboxSearchSettings;
}

const KNOWN = ['domains', 'timeZone', 'trackingUrl', 'smtp', 'sendPerMinute', 'reportMailbox', 'scannerRanges', 'mailboxSearch'];

export function awarenessSettings(settings: Settings, env: NodeJS.ProcessEnv = process.env): AwarenessSettings {
  const raw = ((settings as unknown as { awareness?: Record<string, unknown> }).awareness ?? {}) as Record<string, unknown>;
  const fail = (what: string): never => {
    throw new Error(`carewall.json: awareness.${what}`);
  };
  for (const k of Object.keys(raw)) if (!KNOWN.includes(k)) fail(`${k} is not an awareness setting (${KNOWN.join(', ')})`);
  const strings = (k: string): string[] => {
    const v = raw[k] ?? [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail(`${k} must be a list of strings`);
    return v as string[];
  };
  const domains = strings('domains');
  if (domains.some((d) => !/^[a-z0-9.-]+\.[a-z0-9-]+$/i.test(d))) fail('domains must be a list of domain names (["stmarys-clinic.org"])');
  const timeZone = raw.timeZone ?? 'UTC';
  if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) fail('timeZone must be a time zone such as Europe/Berlin');
  const sendPerMinute = raw.sendPerMinute ?? 60;
  if (typeof sendPerMinute !== 'number' || !Number.isInteger(sendPerMinute) || sendPerMinute < 1) fail('sendPerMinute must be a whole number of at least 1');
  const trackingUrl = raw.trackingUrl;
  if (trackingUrl !== undefined && (typeof trackingUrl !== 'string' || !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(trackingUrl)))
    fail('trackingUrl must be an http(s) address');
  return {
    domains: domains.map((d) => d.toLowerCase()),
    timeZone: timeZone as string,
    ...(trackingUrl ? { trackingUrl: (trackingUrl as string).replace(/\/+$/, '') } : {}),
    ...(raw.smtp !== undefined ? { smtp: smtp(raw.smtp, env, fail) } : {}),
    sendPerMinute: sendPerMinute as number,
    ...(raw.reportMailbox !== undefined ? { reportMailbox: mailbox(raw.reportMailbox, env, fail) } : {}),
    scannerRanges: strings('scannerRanges'),
    ...(raw.mailboxSearch !== undefined ? { mailboxSearch: mailboxSearch(raw.mailboxSearch, env, fail) } : {}),
  };
}

function mailboxSearch(value: unknown, env: NodeJS.ProcessEnv, fail: (w: string) => never): MailboxSearchSettings {
  if (!value || typeof value !== 'object') fail('mailboxSearch must be an object');
  const v = value as Record<string, unknown>;
  const { host, port } = endpoint(v, 'mailboxSearch', fail);
  if (typeof v.masterUser !== 'string' || !v.masterUser) fail('mailboxSearch.masterUser is required');
  return {
    host,
    port,
    secure: (v.secure as boolean | undefined) ?? port === 993,
    masterUser: v.masterUser as string,
    password: env.CAREWALL_MAILBOX_SEARCH_PASSWORD,
    verifyCertificate: (v.verifyCertificate as boolean | undefined) ?? true,
  };
}

function endpoint(v: Record<string, unknown>, what: string, fail: (w: string) => never): { host: string; port: number } {
  if (typeof v.host !== 'string' || !v.host) fail(`${what}.host is required`);
  if (typeof v.port !== 'number' || !Number.isInteger(v.port) || v.port < 1 || v.port > 65535) fail(`${what}.port must be a port number`);
  for (const k of ['secure', 'requireTls', 'verifyCertificate'])
    if (v[k] !== undefined && typeof v[k] !== 'boolean') fail(`${what}.${k} must be true or false`);
  if ('password' in v) fail(`${what}.password does not belong in carewall.json: set it in the environment`);
  return { host: v.host as string, port: v.port as number };
}

function smtp(value: unknown, env: NodeJS.ProcessEnv, fail: (w: string) => never): SmtpSettings {
  if (!value || typeof value !== 'object') fail('smtp must be an object');
  const v = value as Record<string, unknown>;
  const { host, port } = endpoint(v, 'smtp', fail);
  if (v.user !== undefined && typeof v.user !== 'string') fail('smtp.user must be a string');
  return {
    host,
    port,
    secure: (v.secure as boolean | undefined) ?? port === 465,
    requireTls: (v.requireTls as boolean | undefined) ?? false,
    ...(v.user ? { user: v.user as string, password: env.CAREWALL_SMTP_PASSWORD } : {}),
    verifyCertificate: (v.verifyCertificate as boolean | undefined) ?? true,
  };
}

function mailbox(value: unknown, env: NodeJS.ProcessEnv, fail: (w: string) => never): MailboxSettings {
  if (!value || typeof value !== 'object') fail('reportMailbox must be an object');
  const v = value as Record<string, unknown>;
  const { host, port } = endpoint(v, 'reportMailbox', fail);
  if (typeof v.user !== 'string' || !v.user) fail('reportMailbox.user is required');
  if (v.sharedFolder !== undefined && (typeof v.sharedFolder !== 'string' || !v.sharedFolder)) fail('reportMailbox.sharedFolder must be a folder name');
  const poll = v.pollSeconds ?? 60;
  if (typeof poll !== 'number' || !Number.isInteger(poll) || poll < 5) fail('reportMailbox.pollSeconds must be a whole number of at least 5');
  return {
    host,
    port,
    secure: (v.secure as boolean | undefined) ?? port === 993,
    user: v.user as string,
    password: env.CAREWALL_REPORT_MAILBOX_PASSWORD,
    verifyCertificate: (v.verifyCertificate as boolean | undefined) ?? true,
    pollSeconds: poll as number,
    ...(v.sharedFolder ? { sharedFolder: v.sharedFolder as string } : {}),
  };
}
