/**
 * The live scan's CPU-bound part, as one task for a worker thread (detectWorker.ts): the reference
 * resources into ReferenceData, the window's events through the Accumulator, and the Detection,
 * exactly as `monitor scan` does. Plain data in and out, so that it crosses between threads.
 */
import type { Alert } from '../catalog.js';
import { Accumulator } from '../scan/accumulate.js';
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
}

export function detectAlerts(task: DetectTask): Alert[] {
  const ref = ReferenceData.fromResources(task.resources);
  const acc = new Accumulator(ref);
  for (const e of task.events) acc.add(e);
  const users = new Set(task.users);
  return new Detection(acc, ref).run().filter((a) => users.has(a.user));
}
