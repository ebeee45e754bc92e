/** The shapes of reported-mail triage (docs/awareness.md, "Triage"). */

/** mailauth's DNS hook: the answers of one lookup, as node's `dns.promises.resolve` gives them. */
export type DnsResolver = (name: string, rrtype: string) => Promise<string[][] | string[]>;

export interface StaffMember {
  name: string;
  email: string;
}

export interface TriageOptions {
  /** The clinic's own domains and its suppliers' (registrable domains, e.g. stmarys-clinic.org). */
  domains: string[];
  /** The clinic's staff: mail from outside showing one of these names is impersonation. */
  staff?: StaffMember[];
  /** DNS for SPF, DKIM, DMARC and ARC; node's own (with a short deadline) when not given. */
  resolver?: DnsResolver;
  /**
   * One deadline for all of a message's lookups, in milliseconds (3,000 by default, for the
   * network). A caller whose resolver answers from a table may give a long one, so that a busy
   * machine never turns a lookup into a temporary error and so a verdict.
   */
  dnsDeadlineMs?: number;
  /** The moment of triage, recorded in the result (`triagedAt`); the clock when not given. */
  now?: Date;
  /** The connection the message arrived on, when known (an MTA hook knows it; the report button does not). */
  clientIp?: string;
  helo?: string;
  /** The host name of the receiving server, written into the authentication results. */
  mta?: string;
}

export type Verdict = 'phishing' | 'suspicious' | 'clean';

export interface Reason {
  /** Stable identifier (docs/awareness.md lists them all). */
  code: string;
  /** One sentence for a person; never quotes the message's content or addresses. */
  text: string;
  /** What the reason adds to the score (0 for findings that only inform, negative for reassuring ones). */
  weight: number;
}

export type AuthResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror';

export interface AuthenticationSummary {
  spf: AuthResult;
  /** Where SPF's client address came from: the caller, a Received header, or nowhere. */
  spfSource: 'connection' | 'received' | 'none';
  dkim: AuthResult;
  dmarc: AuthResult;
  arc: AuthResult;
  /** Whether DNS answered at all; when it did not, every result above is temperror. */
  dnsAvailable: boolean;
}

export interface AttachmentSummary {
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
}

/** What several reports of one campaign share, for clustering and search. */
export interface TriageSummary {
  from?: string;
  fromDomain?: string;
  subject?: string;
  messageId?: string;
  /** Link targets (after unwrapping known redirectors), and their hosts, sorted and without repeats. */
  links: string[];
  linkHosts: string[];
  attachments: AttachmentSummary[];
  /** sha256 over sender domain, normalised subject and sorted link hosts: equal for one campaign's copies. */
  fingerprint: string;
}

export interface TriageResult {
  verdict: Verdict;
  /** ISO 8601: when the message was triaged (options.now). */
  triagedAt: string;
  score: number;
  reasons: Reason[];
  authentication: AuthenticationSummary;
  summary: TriageSummary;
}

/** The input is not an RFC 822 message (no header block, or none of From, Date, Subject). */
export class NotAMailMessage extends Error {
  constructor() {
    super('the input is not an e-mail message (RFC 822: a header block with From, Date or Subject)');
    this.name = 'NotAMailMessage';
  }
}
