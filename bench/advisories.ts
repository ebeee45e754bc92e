/**
 * Matching advisories to equipment: 1,000 advisories (about 6 products each, by vendor and name
 * with versions and ranges, some by CPE or purl) against 10,000 devices (each with a model, a
 * reported version and a few SBOM components), seeded. The matcher (src/advisories/match.ts, indexed
 * by identifier and vendor) against the same question answered all-pairs: every device against every
 * product of every advisory, by normalised vendor and name, in the same run. Both must find the same
 * name matches; the figures are the time per full fleet pass.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { ProductIndex, compareVersions, inRange, normaliseName, type Advisory, type MatchItem, type Product } from '../src/advisories/index.js';
import { Rng } from '../src/guard/formats.js';
import { writeSection } from './report.js';

const ADVISORIES = Number(process.env.ADVISORY_BENCH_ADVISORIES ?? 1000);
const DEVICES = Number(process.env.ADVISORY_BENCH_DEVICES ?? 10_000);
const rng = new Rng(20261205);
const pickOf = <T>(xs: T[]) => xs[rng.int(0, xs.length - 1)];

const vendors = Array.from({ length: 200 }, (_, i) => `Vendor ${i} ${pickOf(['Medical', 'GmbH', 'Inc.', 'Systems', 'AG'])}`);
const models = vendors.map((_, v) => Array.from({ length: 8 }, (_, m) => `Model ${v * 10 + m}`));
const libraries = Array.from({ length: 300 }, (_, i) => `lib${i}`);

const advisories: Advisory[] = Array.from({ length: ADVISORIES }, (_, a) => {
  const products = new Map<string, Product>();
  const n = rng.int(3, 10);
  for (let p = 0; p < n; p++) {
    const id = `P${p}`;
    if (rng.next() < 0.2) {
      const lib = pickOf(libraries);
      products.set(id, { id, name: lib, purl: `pkg:generic/${lib}@${rng.int(1, 3)}.${rng.int(0, 9)}` });
    } else {
      const v = rng.int(0, vendors.length - 1);
      const major = rng.int(1, 4);
      products.set(id, {
        id,
        vendor: vendors[v],
        name: pickOf(models[v]),
        ...(rng.next() < 0.5 ? { range: `vers:generic/>=${major}.0|<${major}.${rng.int(1, 9)}` } : { version: `${major}.${rng.int(0, 9)}` }),
      });
    }
  }
  return {
    id: `ADV-${a}`,
    version: '1',
    title: `advisory ${a}`,
    publisher: 'bench',
    released: '2026-01-01T00:00:00Z',
    products,
    vulnerabilities: [
      { key: `CVE-${a}`, title: 'x', status: new Map([...products.keys()].map((k) => [k, 'affected' as const])), justification: new Map(), fixes: [] },
    ],
  };
});

const items: MatchItem[] = Array.from({ length: DEVICES }, (_, d) => {
  const v = rng.int(0, vendors.length - 1);
  return {
    deviceId: `dev-${d}`,
    vendor: vendors[v],
    model: pickOf(models[v]),
    reportedVersion: `${rng.int(1, 4)}.${rng.int(0, 9)}`,
    components: Array.from({ length: rng.int(2, 6) }, () => {
      const lib = pickOf(libraries);
      const version = `${rng.int(1, 3)}.${rng.int(0, 9)}`;
      return { name: lib, version, purl: `pkg:generic/${lib}@${version}` };
    }),
  };
});

// The matcher: index once, then every device.
let t = performance.now();
const index = new ProductIndex(advisories);
const buildMs = performance.now() - t;
t = performance.now();
let matches = 0;
const byName = new Set<string>();
for (const item of items)
  for (const m of index.matches(item)) {
    matches++;
    if (m.via === 'device') byName.add(`${m.deviceId}|${m.advisory}|${m.productId}`);
  }
const indexedMs = performance.now() - t;
// The baseline's question alone: devices without their SBOM components.
t = performance.now();
for (const item of items) index.matches({ ...item, components: [] });
const devicesOnlyMs = performance.now() - t;

// The baseline: all pairs, by normalised vendor and name only (less than the matcher checks), the
// products' names normalised once beforehand so that the loop is comparisons only.
const flat = advisories.flatMap((a) =>
  [...a.products.values()].filter((p) => p.vendor && p.name).map((p) => ({ a: a.id, p, vendor: normaliseName(p.vendor!), name: normaliseName(p.name!) })),
);
t = performance.now();
const pairs = new Map<string, Product>();
for (const item of items) {
  const vendor = normaliseName(item.vendor);
  const model = normaliseName(item.model);
  for (const f of flat) if (f.vendor === vendor && f.name === model) pairs.set(`${item.deviceId}|${f.a}|${f.p.id}`, f.p);
}
const allPairsMs = performance.now() - t;
// A same-name pair the matcher leaves out must have a reported version outside the product's.
const version = new Map(items.map((i) => [i.deviceId, i.reportedVersion!]));
const missingPairs = [...pairs].filter(([k]) => !byName.has(k));
const unexplained = missingPairs.filter(([k, p]) => {
  const v = version.get(k.split('|')[0])!;
  return p.version ? compareVersions(v, p.version) === 0 : inRange(v, p.range!) !== false;
}).length;
if (unexplained > 0) throw new Error(`${unexplained} same-name pairs inside their version were not matched`);
const missing = missingPairs.length;

const productCount = advisories.reduce((n, a) => n + a.products.size, 0);
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const section = `## Advisories: matching ${ADVISORIES.toLocaleString('en')} advisories against ${DEVICES.toLocaleString('en')} devices

Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (bench/advisories.ts) on ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB,
Node ${process.version}. Seeded synthetic data: ${productCount.toLocaleString('en')} products (a fifth of them libraries by purl, the rest by vendor, name and a
version or range) from 200 vendors; devices with a model, a reported version and 2–6 SBOM components each.

| what | time | ratio |
|---|---:|---:|
| all pairs (baseline): every device against every product, normalised vendor and name only | ${(allPairsMs / 1000).toFixed(2)} s | 1.00 |
| the matcher: index the products | ${buildMs.toFixed(0)} ms | |
| the matcher, the baseline's question: devices by name and version, no SBOM | ${(devicesOnlyMs / 1000).toFixed(2)} s | **${(devicesOnlyMs / allPairsMs).toFixed(3)}** |
| the matcher, everything: identifiers, names, versions and ranges, and each device's SBOM components | ${(indexedMs / 1000).toFixed(2)} s | ${(indexedMs / allPairsMs).toFixed(3)} |

The matcher found ${matches.toLocaleString('en')} matches (device or component, any certainty); of the ${pairs.size.toLocaleString('en')} same-name pairs the
baseline found, it left out ${missing.toLocaleString('en')}, each checked to have a reported version outside the product's version or range (no match, by design).
For the device question alone the index is no faster than comparing all pairs at this size: it also compares
versions and ranges for every same-vendor candidate (about ${(flat.length / vendors.length).toFixed(0)} per device), which the baseline does not. Most of the full pass is the SBOM components (${items.reduce((n, i) => n + i.components.length, 0).toLocaleString('en')} of them), which all-pairs would multiply by every product again.
The server runs the same matcher over the inventory when an advisory is imported and when a device's advisories are shown.
`;
process.stdout.write(section);
writeSection(section);
