/** The live monitor's settings: carewall.json `"monitor": {...}` over the defaults. */
import type { Settings } from '../../config.js';

export interface MonitorSettings {
  /** Seconds between live scans in the server; 0 turns the job off. */
  intervalSeconds: number;
  /** Days of the audit log the detectors see (their baselines need more than the newest records). */
  windowDays: number;
  /** At most this many access records in the window (the newest kept): bounds memory and time. */
  maxEvents: number;
}

export const DEFAULT_MONITOR: MonitorSettings = { intervalSeconds: 60, windowDays: 14, maxEvents: 200_000 };

/** carewall.json `"monitor": {...}` over the defaults, checked. */
export function monitorSettings(settings: Settings): MonitorSettings {
  const raw = { ...DEFAULT_MONITOR, ...((settings as unknown as { monitor?: Partial<MonitorSettings> }).monitor ?? {}) };
  for (const k of ['intervalSeconds', 'windowDays', 'maxEvents'] as const) {
    if (typeof raw[k] !== 'number' || !Number.isFinite(raw[k]) || raw[k] < 0) throw new Error(`carewall.json: monitor.${k} must be a number of at least 0`);
  }
  if (raw.windowDays < 1 || raw.maxEvents < 1) throw new Error('carewall.json: monitor.windowDays and monitor.maxEvents must be at least 1');
  return raw;
}
