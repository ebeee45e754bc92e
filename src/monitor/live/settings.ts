/** The live monitor's settings: carewall.json `"monitor": {...}` over the defaults. */
import type { Settings } from '../../config.js';

/** A scan's lease on the cursor (service.ts): detection must end well within it. */
export const LEASE_MINUTES = 10;

export interface MonitorSettings {
  /** Seconds between live scans in the server; 0 turns the job off. */
  intervalSeconds: number;
  /** Days of the audit log the detectors see (their baselines need more than the newest records). */
  windowDays: number;
  /** At most this many access records in the window (the newest kept): bounds memory and time. */
  maxEvents: number;
  /**
   * Seconds the detectors may run (in their worker thread) before the scan is stopped and counted
   * as failed; the cursor stays, so the next run tries the same records again.
   */
  detectSeconds: number;
}

export const DEFAULT_MONITOR: MonitorSettings = { intervalSeconds: 60, windowDays: 14, maxEvents: 200_000, detectSeconds: 300 };

/** carewall.json `"monitor": {...}` over the defaults, checked. */
export function monitorSettings(settings: Settings): MonitorSettings {
  const raw = { ...DEFAULT_MONITOR, ...((settings as unknown as { monitor?: Partial<MonitorSettings> }).monitor ?? {}) };
  for (const k of ['intervalSeconds', 'windowDays', 'maxEvents', 'detectSeconds'] as const) {
    if (typeof raw[k] !== 'number' || !Number.isFinite(raw[k]) || raw[k] < 0) throw new Error(`carewall.json: monitor.${k} must be a number of at least 0`);
  }
  if (raw.windowDays < 1 || raw.maxEvents < 1) throw new Error('carewall.json: monitor.windowDays and monitor.maxEvents must be at least 1');
  // Past the lease another process could take the same records while this one still detects.
  const most = (LEASE_MINUTES - 2) * 60;
  if (raw.detectSeconds <= 0 || raw.detectSeconds > most)
    throw new Error(`carewall.json: monitor.detectSeconds must be above 0 and at most ${most} (the scan's lease is ${LEASE_MINUTES} minutes)`);
  return raw;
}
