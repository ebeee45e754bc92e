/**
 * SPF, DKIM, DMARC and ARC through mailauth, read into reasons.
 *
 * Connection data: a message reported from the mailbox arrives without the address of the server
 * that delivered it. SPF then uses the Received header written where the message crossed into the
 * receiving organisation: the topmost hop whose sending address is public and whose sending host is
 * not in the receiving host's own domain (hops inside one provider, and private addresses, are the
 * organisation's own relays). Headers below that hop are written by the sender and are never used.
 * When no hop qualifies, SPF is reported as not checked (`spf-unverifiable`), not as a failure.
 *
 * DNS: every lookup shares one deadline (a few seconds in all), so triage finishes without network.
 * When no lookup is answered, every result is temperror and the verdict rests on the other checks.
 */
import dns from 'node:dns';
import net from 'node:net';
import type { AuthenticateResult } from 'mailauth';
import { registrableDomain } from './domains.js';
import { reason, type ReasonCode } from './reasons.js';
import type { AuthResult, AuthenticationSummary, DnsResolver, Reason, TriageOptions } from './types.js';

const DNS_DEADLINE_MS = 3000;
const DNS_PER_QUERY_MS = 1500;

interface DnsState {
  answered: boolean;
  failed: boolean;
}

function systemResolver(): DnsResolver {
  const resolver = new dns.promises.Resolver({ timeout: DNS_PER_QUERY_MS, tries: 1 });
  return (name, rrtype) => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
}

function timeoutError(): Error {
  return Object.assign(new Error('DNS deadline passed'), { code: 'ETIMEOUT' });
}

/** Wraps a resolver: one deadline for all lookups, and a record of whether DNS answered at all. */
function guarded(base: DnsResolver, state: DnsState, deadlineMs: number): DnsResolver {
  const deadline = Date.now() + deadlineMs;
  return async (name, rrtype) => {
    const left = deadline - Date.now();
    if (left <= 0) {
      state.failed = true;
      throw timeoutError();
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = !Number.isFinite(left)
        ? await base(name, rrtype)
        : await Promise.race([
            base(name, rrtype),
            new Promise<never>((_, reject) => {
              // Not unref'd: a lookup that never settles must still end triage, not the process.
              timer = setTimeout(() => reject(timeoutError()), left);
            }),
          ]);
      state.answered = true;
      return answer;
    } catch (err) {
      // ENODATA is an answer: the name exists and has no record of that type.
      if ((err as { code?: string }).code === 'ENODATA') state.answered = true;
      else state.failed = true;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}

const PRIVATE_RANGES = new net.BlockList();
for (const [addr, prefix] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['100.64.0.0', 10],
] as const)
  PRIVATE_RANGES.addSubnet(addr, prefix, 'ipv4');
for (const [addr, prefix] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  PRIVATE_RANGES.addSubnet(addr, prefix, 'ipv6');

function isPublicIp(ip: string): boolean {
  const family = net.isIP(ip);
  return family !== 0 && !PRIVATE_RANGES.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** A Received header's sending host, the name its address resolved to, its address, and the receiving host. */
function parseHop(header: string): { fromHost?: string; rdns?: string; ip?: string; byHost?: string } {
  const text = header.replace(/\s+/g, ' ');
  const fromHost = /\bfrom\s+([^\s(;]+)/i.exec(text)?.[1];
  const byHost = /\bby\s+([^\s(;]+)/i.exec(text)?.[1];
  // Postfix and Sendmail write "(rdns [ip])", Exim "([ip] helo=x)", Exchange "(ip)"; some write "from [ip]".
  const paren = /\bfrom\s+[^\s(;]+\s+\(([^)]*)\)/i.exec(text)?.[1] ?? '';
  const candidates = [/\[(?:IPv6:)?([0-9a-f:.]+)\]/i.exec(paren)?.[1], paren.trim(), /^\[(?:IPv6:)?([0-9a-f:.]+)\]$/i.exec(fromHost ?? '')?.[1]];
  const ip = candidates.find((c): c is string => !!c && net.isIP(c) !== 0);
  const rdns = /^([a-z0-9-]+(?:\.[a-z0-9-]+)+)\s*(?:\[|$)/i.exec(paren.trim())?.[1];
  return { fromHost, rdns: rdns && net.isIP(rdns) === 0 ? rdns : undefined, ip, byHost };
}

/**
 * The hop where the message entered the receiving organisation, from the Received headers (topmost
 * first): hops from private addresses and hops between hosts of the receiving side's own domain are
 * its relays; the first hop from outside is the boundary. The walk stops there even when that hop
 * names no usable address: every header below it was written by the sender and may be forged.
 */
export function boundaryHop(received: string[]): { ip: string; helo?: string } | undefined {
  const hops = received.map(parseHop);
  const receiving = new Set([registrableDomain(hops[0]?.byHost ?? '')].filter((d): d is string => !!d));
  for (const hop of hops) {
    if (!hop.fromHost) continue; // "Received: by ..." alone: a local hand-over
    if (hop.ip && !isPublicIp(hop.ip)) continue;
    const fromDomain = registrableDomain(hop.rdns ?? '') ?? registrableDomain(hop.fromHost);
    const byDomain = registrableDomain(hop.byHost ?? '');
    if (!hop.ip && !fromDomain) continue; // a bare host name without address: inside a private network
    if (fromDomain && (fromDomain === byDomain || receiving.has(fromDomain))) {
      if (byDomain) receiving.add(byDomain);
      continue;
    }
    if (!hop.ip) return undefined;
    return { ip: hop.ip, helo: hop.fromHost.startsWith('[') ? undefined : hop.fromHost };
  }
  return undefined;
}

function normalise(result: string | undefined): AuthResult {
  switch (result) {
    case 'pass':
    case 'fail':
    case 'softfail':
    case 'neutral':
    case 'none':
    case 'temperror':
    case 'permerror':
      return result;
    case 'temperr':
      return 'temperror';
    case 'policy':
      return 'permerror';
    default:
      return 'none';
  }
}

export interface AuthenticationOutcome {
  summary: AuthenticationSummary;
  reasons: Reason[];
  /** The From domain is authenticated (DMARC pass, or an aligned pass where no DMARC record exists). */
  fromAuthenticated: boolean;
  /** The From domain failed authentication (DMARC fail, not vouched for by a forwarder). */
  fromFailed: boolean;
}

export async function checkAuthentication(
  raw: Buffer,
  fromDomain: string | undefined,
  envelopeSender: string | undefined,
  received: string[],
  options: TriageOptions,
): Promise<AuthenticationOutcome> {
  const state: DnsState = { answered: false, failed: false };
  const resolver = guarded(options.resolver ?? systemResolver(), state, options.dnsDeadlineMs ?? DNS_DEADLINE_MS);
  const hop = options.clientIp ? { ip: options.clientIp, helo: options.helo } : boundaryHop(received);
  let result: AuthenticateResult | undefined;
  try {
    // Loaded on first use (about 350 ms): only triage of reported mail needs it.
    const { authenticate } = await import('mailauth');
    result = await authenticate(raw, {
      ip: hop?.ip,
      helo: hop?.helo ?? options.helo,
      sender: envelopeSender,
      mta: options.mta ?? 'carewall.triage',
      resolver,
      disableBimi: true,
    });
  } catch {
    state.failed = true;
  }
  const dnsAvailable = state.answered || !state.failed;
  if (!result || !dnsAvailable) {
    const summary: AuthenticationSummary = {
      spf: 'temperror',
      spfSource: hop ? (options.clientIp ? 'connection' : 'received') : 'none',
      dkim: 'temperror',
      dmarc: 'temperror',
      arc: 'temperror',
      dnsAvailable: false,
    };
    return {
      summary,
      reasons: [reason('dns-unavailable'), reason('spf-temperror'), reason('dkim-temperror'), reason('dmarc-temperror')],
      fromAuthenticated: false,
      fromFailed: false,
    };
  }

  const spfSource = hop ? (options.clientIp ? 'connection' : 'received') : 'none';
  const spf: AuthResult = hop && result.spf ? normalise(result.spf.status.result) : 'none';

  const signatures = result.dkim.results.filter((r) => r.status.result !== 'none');
  // mailauth reports a body that no longer matches its hash as "neutral"; RFC 6376 calls it a failure.
  const dkimResults = signatures.map((r) => (r.status.result === 'neutral' && /body hash/i.test(r.status.comment ?? '') ? 'fail' : normalise(r.status.result)));
  const dkim: AuthResult = dkimResults.includes('pass')
    ? 'pass'
    : dkimResults.includes('fail')
      ? 'fail'
      : dkimResults.includes('temperror')
        ? 'temperror'
        : dkimResults.length > 0
          ? 'permerror'
          : 'none';
  const alignedDkim = signatures.some((r) => r.status.result === 'pass' && fromDomain && registrableDomain(r.signingDomain) === fromDomain);
  const alignedSpf = spf === 'pass' && !!fromDomain && registrableDomain(result.spf ? result.spf.domain : '') === fromDomain;

  let dmarc: AuthResult = result.dmarc ? normalise(result.dmarc.status.result) : 'none';
  const arc: AuthResult = result.arc ? normalise(result.arc.status.result) : 'none';
  // Without a sending server, SPF's half of DMARC is unknown: its "fail" is conclusive only when a
  // signature in the From domain's name was there to check and failed (forged or altered).
  const fromSignature = signatures.some((r) => fromDomain && registrableDomain(r.signingDomain) === fromDomain);
  const unverifiable = dmarc === 'fail' && spfSource === 'none' && !fromSignature;
  const vouched = dmarc === 'fail' && arc === 'pass' && arcVouches(result, fromDomain, options.domains);

  const reasons: Reason[] = [];
  reasons.push(reason(hop ? (`spf-${spf}` as ReasonCode) : 'spf-unverifiable'));
  reasons.push(reason(`dkim-${dkim}` as ReasonCode));
  if (unverifiable) {
    reasons.push(reason('dmarc-unverifiable'));
    dmarc = 'none';
  } else if (vouched) reasons.push(reason('dmarc-fail-arc-vouched'));
  else reasons.push(reason(`dmarc-${dmarc === 'neutral' || dmarc === 'softfail' ? 'permerror' : dmarc}` as ReasonCode));
  if (arc === 'pass') reasons.push(reason('arc-pass'));
  else if (arc === 'fail' || arc === 'permerror') reasons.push(reason('arc-fail'));

  const fromAuthenticated = dmarc === 'pass' || (dmarc === 'none' && !unverifiable && (alignedDkim || alignedSpf));
  const fromFailed =
    !vouched && (dmarc === 'fail' || (dmarc === 'none' && !unverifiable && !fromAuthenticated && (spf === 'fail' || spf === 'softfail' || dkim === 'fail')));
  return { summary: { spf: hop ? spf : 'none', spfSource, dkim, dmarc, arc, dnsAvailable: true }, reasons, fromAuthenticated, fromFailed };
}

/**
 * A forwarder's ARC chain vouches for the original authentication when the chain verifies and the
 * last sealer recorded a DMARC or DKIM pass for the From domain. Anyone can seal, so for a From domain
 * the clinic trusts, only a sealer among the clinic's or suppliers' domains is believed.
 */
function arcVouches(result: AuthenticateResult, fromDomain: string | undefined, trusted: string[]): boolean {
  if (!result.arc || !fromDomain) return false;
  const aar = result.arc.authenticationResults as Record<string, unknown> | undefined;
  if (!aar) return false;
  const entries = (key: string): Array<Record<string, unknown>> => {
    const v = aar[key];
    return Array.isArray(v) ? (v as Array<Record<string, unknown>>) : v && typeof v === 'object' ? [v as Record<string, unknown>] : [];
  };
  const fromOf = (e: Record<string, unknown>): string | undefined => {
    const header = e.header as Record<string, unknown> | undefined;
    const value = header?.from ?? header?.d ?? header?.i;
    return typeof value === 'string' ? registrableDomain(value.replace(/^.*@/, '')) : undefined;
  };
  const passed = [...entries('dmarc'), ...entries('dkim')].some((e) => e.result === 'pass' && fromOf(e) === fromDomain);
  if (!passed) return false;
  if (!trusted.includes(fromDomain)) return true;
  const sealer = result.arc.signature ? registrableDomain(result.arc.signature.signingDomain) : undefined;
  return !!sealer && trusted.includes(sealer);
}
