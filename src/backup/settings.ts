/** The `backup` and `massChange` sections of carewall.json (loadSettings keeps sections it does not know). */
import path from 'node:path';
import type { Settings } from '../config.js';

export interface BackupSettings {
  /** File shares to back up: name -> folder. */
  shares: Record<string, string>;
  /** Hours between scheduled backups by the server; 0 turns the schedule off. Default 24 (once `backup init` has made a repository). */
  everyHours: number;
}

export interface MassChangeSettings {
  /** Updates and deletes by one account within `windowSeconds` beyond which it is suspended; 0 turns it off. */
  maxChanges: number;
  windowSeconds: number;
}

export const DEFAULT_MASS_CHANGE: MassChangeSettings = { maxChanges: 300, windowSeconds: 600 };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function backupSettings(settings: Settings): BackupSettings {
  const raw = ((settings as unknown as { backup?: Partial<BackupSettings> }).backup ?? {}) as Partial<BackupSettings>;
  const fail = (what: string) => {
    throw new Error(`carewall.json: backup.${what}`);
  };
  const shares = raw.shares ?? {};
  if (typeof shares !== 'object' || Array.isArray(shares)) fail('shares must be an object of name -> folder');
  for (const [name, dir] of Object.entries(shares)) {
    if (!NAME.test(name)) fail(`shares: ${JSON.stringify(name)} is not a share name (letters, digits, _ . -)`);
    if (typeof dir !== 'string' || dir.length === 0) fail(`shares.${name} must be a folder`);
  }
  const everyHours = raw.everyHours ?? 24;
  if (typeof everyHours !== 'number' || !Number.isFinite(everyHours) || everyHours < 0) fail('everyHours must be a number of at least 0');
  const resolved = Object.fromEntries(Object.entries(shares).map(([n, d]) => [n, path.resolve(settings.dataDir, d)]));
  return { shares: resolved, everyHours };
}

export function massChangeSettings(settings: Settings): MassChangeSettings {
  const raw = { ...DEFAULT_MASS_CHANGE, ...((settings as unknown as { massChange?: Partial<MassChangeSettings> }).massChange ?? {}) };
  for (const k of ['maxChanges', 'windowSeconds'] as const) {
    if (typeof raw[k] !== 'number' || !Number.isInteger(raw[k]) || raw[k] < 0)
      throw new Error(`carewall.json: massChange.${k} must be a whole number of at least 0`);
  }
  if (raw.maxChanges > 0 && raw.windowSeconds < 1) throw new Error('carewall.json: massChange.windowSeconds must be at least 1');
  return raw;
}
