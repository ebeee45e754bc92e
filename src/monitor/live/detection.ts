/**
 * The live scan's CPU-bound part, as one task for a worker thread (detectWorker.ts): the reference
 * resources into ReferenceData, the window's events through the Accumulator, and the Detection,
 * exactly as `monitor scan` does. Plain data in and out, so that it crosses between threads.
 */
import type { Alert } from '../catalog.js';
import { Accumulator } from '../scan/accumulate.js';
import type { PatternWeight, WatchItem } from '../scan/budget.js';
import { Detection } from '../scan/detect.js';
import type { AccessEvent } from '../scan/events.js';
import { ReferenceData } from '../scan/reference.js';

export interface DetectTask {
  /** The window's access events, in time order. */
  events: AccessEvent[];
  /** Organization, Location, Practitioner, PractitionerRole, and the window's patients with their links. */
  resources: Array<Record<string, unknown>>;
  /** Only these users' alerts are returned: the users with new records since the last scan. */
  users: string[];
  /** Patterns privacy officers' closures weighed down (learning.ts), applied by the alert budget. */
  adjustments?: PatternWeight[];
}

export interface DetectResult {
  alerts: Alert[];
  /** The candidates the budget held back, of the same users, most improbable first. */
  watch: WatchItem[];
}

export function detectAlerts(task: DetectTask): DetectResult {
  const ref = ReferenceData.fromResources(task.resources);
  const acc = new Accumulator(ref);
  for (const e of task.events) acc.add(e);
  const users = new Set(task.users);
  const detection = new Detection(acc, ref, { adjustments: task.adjustments ?? [] });
  const alerts = detection.run().filter((a) => users.has(a.user));
  return { alerts, watch: detection.watch.filter((w) => users.has(w.user)) };
}
