/**
 * The `posture` section of carewall.json: the clinic's size (which HICP sub-practices apply), its own
 * networks (a sign-in from elsewhere is remote access), its recovery-time objective, how often the
 * master key is rotated, and where its Carewall releases are announced. Checked when the server
 * starts, so that a mistake is said at once rather than at the first scorecard.
 */
import net from 'node:net';
import type { Settings } from '../config.js';
import type { ClinicSize } from './types.js';

export interface PostureSettings {
  size: ClinicSize;
  /** CIDR ranges of the clinic's own networks; sign-ins from anywhere else are remote. */
  clinicNetworks: string[];
  recoveryTimeObjectiveHours: number;
  keyRotationDays: number;
  /** An https address answering `{"version": "x.y.z"}` (or an npm registry document); none: not measured. */
  releaseFeed?: string;
}

/** Private, loopback and link-local ranges: a clinic with no setting is taken to be behind NAT. */
export const DEFAULT_CLINIC_NETWORKS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16', '::1/128', 'fc00::/7', 'fe80::/10'];

export function postureSettings(settings: Settings): PostureSettings {
  const raw = ((settings as unknown as { posture?: Record<string, unknown> }).posture ?? {}) as Record<string, unknown>;
  const fail = (what: string): never => {
    throw new Error(`carewall.json: posture.${what}`);
  };
  const size = raw.size ?? 'small';
  if (size !== 'small' && size !== 'medium' && size !== 'large') fail('size must be small, medium or large');
  const clinicNetworks = raw.clinicNetworks ?? DEFAULT_CLINIC_NETWORKS;
  if (!Array.isArray(clinicNetworks) || !clinicNetworks.every((c) => typeof c === 'string' && parseCidr(c)))
    fail('clinicNetworks must be a list of address ranges such as "10.20.0.0/16"');
  const number = (key: string, fallback: number, min: number) => {
    const v = raw[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) fail(`${key} must be a number of at least ${min}`);
    return v as number;
  };
  const releaseFeed = raw.releaseFeed;
  if (releaseFeed !== undefined && (typeof releaseFeed !== 'string' || !/^https?:\/\/\S+$/.test(releaseFeed))) fail('releaseFeed must be an http(s) address');
  return {
    size: size as ClinicSize,
    clinicNetworks: clinicNetworks as string[],
    recoveryTimeObjectiveHours: number('recoveryTimeObjectiveHours', 24, 0.1),
    keyRotationDays: number('keyRotationDays', 365, 1),
    ...(releaseFeed ? { releaseFeed: releaseFeed as string } : {}),
  };
}

function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address, bits] = cidr.split('/');
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  const prefix = Number(bits);
  if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 'ipv4' ? 32 : 128)) return undefined;
  return { address, prefix, family };
}

/** Whether an address is inside the clinic's networks (an IPv4 address written as IPv6, ::ffff:a.b.c.d, counts as IPv4). */
export function insideNetworks(cidrs: string[]): (address: string) => boolean {
  const list = new net.BlockList();
  for (const c of cidrs) {
    const p = parseCidr(c)!;
    list.addSubnet(p.address, p.prefix, p.family);
  }
  return (address) => {
    const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    const family = net.isIPv4(plain) ? 'ipv4' : net.isIPv6(plain) ? 'ipv6' : undefined;
    return family !== undefined && list.check(plain, family);
  };
}
