/** A closed-loop load generator: N clients, each sending its next request when the last answers. */
import { rng } from './synthetic.js';

export interface Measurement {
  opsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
}

export async function measure(
  baseUrl: string,
  token: string,
  /** The next request: a path to GET, or a method, path and JSON body (a write). */
  nextPath: (random: () => number) => string | { method: string; path: string; body: unknown },
  /** `ratePerSecond`: requests started at that total pace (a steady load) instead of back to back. */
  opts: { seconds: number; concurrency: number; warmupSeconds?: number; ratePerSecond?: number },
): Promise<Measurement> {
  const random = rng(7);
  const headers = { authorization: `Bearer ${token}` };
  let reported = false;
  const once = async () => {
    const next = nextPath(random);
    const res =
      typeof next === 'string'
        ? await fetch(baseUrl + next, { headers })
        : await fetch(baseUrl + next.path, {
            method: next.method,
            headers: { ...headers, 'content-type': 'application/fhir+json' },
            body: JSON.stringify(next.body),
          });
    if (!res.ok && !reported) {
      reported = true;
      process.stderr.write(`first error: ${res.status} ${(await res.text()).slice(0, 300)}\n`);
      return false;
    }
    await res.arrayBuffer();
    return res.ok;
  };
  const warmupEnd = Date.now() + (opts.warmupSeconds ?? 0.5) * 1000;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (Date.now() < warmupEnd) await once();
    }),
  );
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + opts.seconds * 1000;
  let slot = 0;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (performance.now() < end) {
        if (opts.ratePerSecond) {
          // The next start time of the steady schedule; a request late for its slot starts at once.
          const at = start + (slot++ * 1000) / opts.ratePerSecond;
          if (at >= end) break;
          const wait = at - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const t0 = performance.now();
        if (!(await once())) errors++;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { opsPerSec: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors };
}
