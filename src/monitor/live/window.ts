/**
 * The live scan's window: the access events of the last `windowDays`, at most `maxEvents` of them,
 * the newest. Read from the audit log in leaf order, not as a paged search: each page of a search
 * counts and sorts the whole window again (a scan of 26,000 records held the embedded database,
 * and every request waiting on it, for three seconds), while leaves in order come from their
 * bundles as stored. Between chunks the event loop is let go, so requests interleave with the
 * reading (bench/liveScan.ts measures it).
 *
 * Incremental: a RecentWindow keeps the window it read and, at the next scan, reads only the leaves
 * appended since, dropping what fell out of the window. Its state is bounded by maxEvents; it is
 * this process's cache, never the truth (another process rebuilds its own from the log), and it
 * starts over whenever it cannot be sure it is whole: the first scan, other settings, a log shorter
 * than what was read.
 */
import { decodeLeaf, type AuditService } from '../../audit/index.js';
import type { AccessEvent } from '../scan/events.js';
import { toMonitorEvent } from './auditRecords.js';

const CHUNK = 2000;

/** What the window reads: the log's size and leaves, and where a time begins in it. */
export type WindowSource = { log: Pick<AuditService['log'], 'head' | 'leaves'>; firstIndexSince: AuditService['firstIndexSince'] };

export class RecentWindow {
  private events: AccessEvent[] = [];
  /** The leaf index up to which the log has been read; -1 before the first read. */
  private end = -1;
  private shape?: { windowMs: number; maxEvents: number };

  constructor(private readonly source: WindowSource) {}

  /** The window ending now (`now` injectable for tests), in time order. */
  async read(windowMs: number, maxEvents: number, now = Date.now()): Promise<AccessEvent[]> {
    const since = now - windowMs;
    // A fixed end: records appended while the window is read wait for the next scan.
    const head = (await this.source.log.head()).size;
    const sameShape = this.shape?.windowMs === windowMs && this.shape.maxEvents === maxEvents;
    if (this.end < 0 || !sameShape || head < this.end) {
      this.events = await readNewestFirst(this.source, since, head, maxEvents);
    } else if (head > this.end) {
      // Appended leaves are newer than all the window kept (the log's order is commit order: a
      // record written inside a long transaction can trail a later one by a moment, hence the sort).
      const added = await readForward(this.source, this.end, head, since);
      this.events = keepNewest(this.events.concat(added), since, maxEvents);
    } else {
      this.events = keepNewest(this.events, since, maxEvents);
    }
    this.end = head;
    this.shape = { windowMs, maxEvents };
    return this.events;
  }
}

/** The first read: newest chunk first, so that a cap stops the reading once it has enough. */
async function readNewestFirst(source: WindowSource, since: number, end: number, maxEvents: number): Promise<AccessEvent[]> {
  const first = await source.firstIndexSince(new Date(since));
  const chunks: AccessEvent[][] = [];
  let n = 0;
  for (let to = end; to > first && n < maxEvents; to -= CHUNK) {
    const chunk = await readLeaves(source, Math.max(first, to - CHUNK), to, since);
    chunks.push(chunk);
    n += chunk.length;
    await yieldToRequests();
  }
  return keepNewest(chunks.reverse().flat(), since, maxEvents);
}

async function readForward(source: WindowSource, from: number, to: number, since: number): Promise<AccessEvent[]> {
  const out: AccessEvent[] = [];
  for (let i = from; i < to; i += CHUNK) {
    out.push(...(await readLeaves(source, i, Math.min(to, i + CHUNK), since)));
    await yieldToRequests();
  }
  return out;
}

async function readLeaves(source: WindowSource, from: number, to: number, since: number): Promise<AccessEvent[]> {
  const out: AccessEvent[] = [];
  for (const { leaf } of await source.log.leaves(from, to)) {
    const e = toMonitorEvent(decodeLeaf(leaf));
    if (e && e.t >= since) out.push(e);
  }
  return out;
}

/** In time order, without what is older than `since`, the newest maxEvents. */
function keepNewest(events: AccessEvent[], since: number, maxEvents: number): AccessEvent[] {
  events.sort((a, b) => a.t - b.t);
  let start = 0;
  while (start < events.length && events[start].t < since) start++;
  start = Math.max(start, events.length - maxEvents);
  return start > 0 ? events.slice(start) : events;
}

function yieldToRequests(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
