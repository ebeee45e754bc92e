/**
 * On the embedded database, how many requests the server works on at once; the others wait their
 * turn in the order they arrived.
 *
 * Why: the embedded database runs in the server's own thread and one statement at a time, so
 * fifty requests worked on together finish no sooner than eight, and they do not take turns
 * fairly. A request's statements and its event-loop turns interleave with everyone else's, and
 * some requests were overtaken again and again. Measured at 50 connections creating patients
 * (bench/http.ts, alternated in one run): the median was the same, but p99 was 0.56-1.1 s and the
 * slowest 0.9-2.2 s. With eight at a time (the place then taken when the headers arrived) the
 * same figures were 0.38-0.41 s and 0.54-0.73 s, at the same rate (220-256 against 225-270/s). The event loop no longer stalls: 52 stalls over
 * 150 ms in 20 s before, none after. On PostgreSQL the connection pool already queues work in
 * order, and the server's backends work in parallel: no gate.
 *
 * A request takes its place once it has arrived whole (preHandler: its body read and checked) and
 * holds it until its answer starts (onSend). Neither end waits on the client: eight callers
 * trickling their bodies in, or eight slow downloads, would otherwise stop the server (found by
 * test/http-admission.test.ts: stalled sign-ins held every place). Signing the caller in comes
 * before, outside the gate: one short statement. A client that hangs up while waiting gives its
 * place up, and one that hangs up while being served frees it.
 *
 * Hand-written because it is a few dozen lines: a semaphore library would need the same hooks
 * around it, and the part that needs care, a waiter leaving the line, is the part written here.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** On the embedded database, the gate requests pass (its counts, for tests and status). */
    workGate?: WorkGate;
  }
}

/** Measured with 4, 8, 12 and 16: 4 cost a quarter of the creates, 12 and 16 brought the tail back. */
export const EMBEDDED_REQUESTS_AT_ONCE = 8;

/** One request's place: `turn` resolves true when it may go on, false if it left before that. */
export interface Place {
  turn: Promise<boolean>;
  /** Frees the place, or gives up waiting for it; only the first call counts. */
  leave(): void;
}

export class WorkGate {
  private working = 0;
  private readonly queue: Array<{ go: (granted: boolean) => void }> = [];

  constructor(readonly places: number) {
    if (!Number.isInteger(places) || places < 1) throw new Error('a work gate needs at least one place');
  }

  /** Requests being worked on now. */
  get inProgress(): number {
    return this.working;
  }

  /** Requests waiting for their turn. */
  get waiting(): number {
    return this.queue.length;
  }

  enter(): Place {
    let state: 'waiting' | 'working' | 'left' = 'waiting';
    let entry: { go: (granted: boolean) => void } | undefined;
    let turn: Promise<boolean>;
    if (this.working < this.places) {
      this.working++;
      state = 'working';
      turn = Promise.resolve(true);
    } else {
      turn = new Promise<boolean>((resolve) => {
        entry = {
          go: (granted) => {
            if (granted) state = 'working';
            resolve(granted);
          },
        };
        this.queue.push(entry);
      });
    }
    const leave = () => {
      if (state === 'working') this.handOn();
      else if (state === 'waiting' && entry) {
        this.queue.splice(this.queue.indexOf(entry), 1);
        entry.go(false);
      }
      state = 'left';
    };
    return { turn, leave };
  }

  /** A place freed: to the longest waiting request, or back to the pool. */
  private handOn(): void {
    const next = this.queue.shift();
    if (next) next.go(true);
    else this.working--;
  }
}

/** Every request takes a place from `gate` before its handler's hooks and the handler run (registered before the routes). */
export function registerWorkGate(app: FastifyInstance, gate: WorkGate): void {
  app.decorate('workGate', gate);
  const places = new WeakMap<FastifyRequest, Place>();
  app.addHook('preHandler', async (req, reply) => {
    const place = gate.enter();
    places.set(req, place);
    reply.raw.once('close', place.leave);
    // A client that hung up while waiting: nothing is done for it, and nothing can be sent.
    if (!(await place.turn)) reply.hijack();
  });
  app.addHook('onSend', async (req) => {
    places.get(req)?.leave();
  });
}
