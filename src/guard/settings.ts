/** The `guard` section of carewall.json: the ransomware guard as part of the server. */
import type { Settings } from '../config.js';

export interface GuardSettings {
  /** Watch the shares in the server. Default: on whenever backup.shares names any. */
  enabled: boolean;
  /** Which of backup.shares to watch, by name; default all of them. */
  shares?: string[];
  /** Plant two decoy files in every folder of the watched shares (any touch of one is an alarm). */
  decoys: boolean;
  /** At the first alarm take the write bits off the watched shares (given back by `carewall guard release`). */
  readOnlyOnAlarm: boolean;
  /** Periodic rescan, the fallback for events the watcher missed. */
  scanIntervalSeconds: number;
}

export function guardSettings(settings: Settings, shareNames: string[]): GuardSettings {
  const raw = ((settings as unknown as { guard?: Record<string, unknown> }).guard ?? {}) as Record<string, unknown>;
  const fail = (what: string): never => {
    throw new Error(`carewall.json: guard.${what}`);
  };
  const known = new Set(['enabled', 'shares', 'decoys', 'readOnlyOnAlarm', 'scanIntervalSeconds']);
  for (const k of Object.keys(raw)) if (!known.has(k)) fail(`${k} is not a guard setting (${[...known].join(', ')})`);
  for (const k of ['enabled', 'decoys', 'readOnlyOnAlarm']) if (raw[k] !== undefined && typeof raw[k] !== 'boolean') fail(`${k} must be true or false`);
  let shares: string[] | undefined;
  if (raw.shares !== undefined) {
    if (!Array.isArray(raw.shares) || raw.shares.some((s) => typeof s !== 'string')) fail('shares must be a list of share names from backup.shares');
    shares = raw.shares as string[];
    for (const s of shares) if (!shareNames.includes(s)) fail(`shares: ${JSON.stringify(s)} is not a share of backup.shares`);
  }
  const scan = raw.scanIntervalSeconds ?? 30;
  if (typeof scan !== 'number' || !Number.isInteger(scan) || scan < 1) fail('scanIntervalSeconds must be a whole number of at least 1');
  return {
    enabled: (raw.enabled as boolean | undefined) ?? shareNames.length > 0,
    shares,
    decoys: (raw.decoys as boolean | undefined) ?? false,
    readOnlyOnAlarm: (raw.readOnlyOnAlarm as boolean | undefined) ?? false,
    scanIntervalSeconds: scan as number,
  };
}
