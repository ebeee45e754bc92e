/**
 * `carewall monitor scan`: a folder of FHIR NDJSON (AuditEvent plus the clinic's reference
 * resources) in, alerts out. Reference data first, then one streaming pass over the AuditEvent
 * files, then the detectors over the aggregates. The alerts file appears whole or not at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Alert, Scenario } from '../catalog.js';
import { forEachRecord, MonitorInputError, NdjsonWriter } from '../ndjson.js';
import { Accumulator } from './accumulate.js';
import { Detection } from './detect.js';
import { toAccessEvent } from './events.js';
import type { BudgetOptions, WatchItem } from './budget.js';
import type { Reason } from './explain.js';
import { ReferenceData } from './reference.js';

export interface ScanSummary {
  events: number;
  accesses: number;
  explained: number;
  explainedShare: number;
  byReason: Record<Reason, number>;
  users: number;
  patients: number;
  alerts: number;
  byScenario: Partial<Record<Scenario, number>>;
  /**
   * Candidates the alert budget did not make alerts, the most improbable first (docs/monitor.md):
   * kept for a privacy officer's look, never silently dropped.
   */
  watchList: WatchItem[];
  seconds: number;
  /** Time spent loading the reference resources, streaming the AuditEvents, and detecting. */
  phases: { reference: number; events: number; detection: number };
  eventsPerSecond: number;
}

const round = (x: number) => Number(x.toFixed(3));

export function auditEventFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f === 'AuditEvent.ndjson' || (f.startsWith('AuditEvent.') && f.endsWith('.ndjson')))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Scans a folder and returns the alerts with a summary; nothing is written. */
export async function scan(dir: string, opts: BudgetOptions = {}): Promise<{ alerts: Alert[]; summary: ScanSummary }> {
  const started = performance.now();
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new MonitorInputError(`${dir}: not a folder`);
  const files = auditEventFiles(dir);
  if (files.length === 0) throw new MonitorInputError(`${dir}: no AuditEvent.ndjson`);
  const ref = await ReferenceData.load(dir);
  const loaded = performance.now();
  const acc = new Accumulator(ref);
  for (const file of files) {
    const name = path.basename(file);
    await forEachRecord(file, (value, line) => {
      let event;
      try {
        event = toAccessEvent(value as Record<string, unknown>);
      } catch (err) {
        throw new MonitorInputError(`${name}:${line}: ${(err as Error).message}`);
      }
      acc.add(event);
    });
  }
  const streamed = performance.now();
  const detection = new Detection(acc, ref, opts);
  const alerts = detection.run();
  const detected = performance.now();
  const byScenario: Partial<Record<Scenario, number>> = {};
  for (const a of alerts) byScenario[a.scenario] = (byScenario[a.scenario] ?? 0) + 1;
  const seconds = (performance.now() - started) / 1000;
  return {
    alerts,
    summary: {
      events: acc.events,
      accesses: acc.accesses,
      explained: acc.explained,
      explainedShare: acc.accesses > 0 ? acc.explained / acc.accesses : 1,
      byReason: acc.byReason,
      users: acc.states.filter(Boolean).length,
      patients: ref.patients.length,
      alerts: alerts.length,
      byScenario,
      watchList: detection.watch,
      seconds: Number(seconds.toFixed(3)),
      phases: { reference: round((loaded - started) / 1000), events: round((streamed - loaded) / 1000), detection: round((detected - streamed) / 1000) },
      eventsPerSecond: Math.round(acc.events / seconds),
    },
  };
}

/** Scans and writes the alerts, one per line, to `out` (through a temporary file renamed at the end). */
export async function scanToFile(dir: string, out: string): Promise<ScanSummary> {
  const { alerts, summary } = await scan(dir);
  const partial = `${out}.partial-${process.pid}`;
  const writer = new NdjsonWriter(partial);
  try {
    for (const a of alerts) await writer.write(a);
    await writer.close();
    fs.renameSync(partial, out);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw err;
  }
  return summary;
}
