/**
 * The live scan's window: the access events of the last `windowDays`, read from the audit log in
 * leaf order, newest chunk first, so that a cap keeps the most recent. Not a paged search: each
 * page of a search counts and sorts the whole window again (a scan of 26,000 records held the
 * embedded database, and every request waiting on it, for three seconds), while leaves in order
 * come from their bundles as stored. Between chunks the event loop is let go, so requests
 * interleave with the reading (bench/liveScan.ts measures it).
 */
import { decodeLeaf, type AuditService } from '../../audit/index.js';
import type { AccessEvent } from '../scan/events.js';
import { toMonitorEvent } from './auditRecords.js';

const CHUNK = 2000;

export async function readWindow(audit: AuditService, since: number, maxEvents: number): Promise<AccessEvent[]> {
  // A fixed end: records appended while the window is read wait for the next scan.
  const end = (await audit.log.head()).size;
  const first = await audit.firstIndexSince(new Date(since));
  const chunks: AccessEvent[][] = [];
  let n = 0;
  for (let to = end; to > first && n < maxEvents; to -= CHUNK) {
    const chunk: AccessEvent[] = [];
    for (const { leaf } of await audit.log.leaves(Math.max(first, to - CHUNK), to)) {
      const e = toMonitorEvent(decodeLeaf(leaf));
      if (e && e.t >= since) chunk.push(e);
    }
    chunks.push(chunk);
    n += chunk.length;
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Back into time order (the log's order is commit order: a record written inside a long
  // transaction can follow a later one by a moment), keeping the newest maxEvents.
  const events = chunks.reverse().flat();
  events.sort((a, b) => a.t - b.t);
  return events.length > maxEvents ? events.slice(events.length - maxEvents) : events;
}
