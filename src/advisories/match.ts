/**
 * Which devices an advisory hits (docs/advisories.md, "Matching"). In order of trust:
 *
 *  - **exact**: the device's model (or an SBOM component) has the product's CPE or purl; or the
 *    same normalised vendor and product name and the very version;
 *  - **range**: the same vendor and product, the device's reported version inside the product's
 *    version range;
 *  - **uncertain**: the names are close but not the same, or the version cannot be compared, or a
 *    component matched by name alone: an engineer confirms or rejects it.
 *
 * A version known to be outside the range is no match. Products are indexed by CPE, purl and
 * normalised vendor, so a fleet is not compared with every product of every advisory.
 */
import type { Advisory, Product } from './csaf.js';
import { compareVersions, inRange } from './versions.js';

export type Certainty = 'exact' | 'range' | 'uncertain';

/** A device as the inventory gives it (FleetItem), reduced to what matching reads. */
export interface MatchItem {
  deviceId: string;
  vendor: string;
  model: string;
  reportedVersion?: string;
  cpe?: string;
  purl?: string;
  components: Array<{ name: string; version?: string; purl?: string; cpe?: string }>;
}

export interface Match {
  advisory: string;
  deviceId: string;
  productId: string;
  certainty: Certainty;
  /** 'device', or the SBOM component that matched. */
  via: string;
}

const LEGAL = /\b(inc|incorporated|corp|corporation|co|company|ltd|limited|llc|gmbh|ag|sa|se|bv|plc|kg|oy|ab|medical|healthcare|systems)\b\.?/g;

export function normaliseName(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9 ]+/g, ' ')
    .replace(LEGAL, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * A CPE → vendor:product and version, so that both bindings of one product meet: CPE 2.3's formatted
 * string `cpe:2.3:part:vendor:product:version:...` (backslash escapes, e.g. `1\.0`) and CPE 2.2's URI
 * `cpe:/part:vendor:product:version...` (percent-encoding), which CSAF 2.0 accepts as well and older
 * advisories and SBOMs still use.
 */
function cpeParts(cpe: string): { key: string; version?: string } | undefined {
  const text = cpe.trim().toLowerCase();
  let vendor: string | undefined;
  let product: string | undefined;
  let version: string | undefined;
  if (text.startsWith('cpe:2.3:')) {
    // Split on colons that are not escaped, then drop the escapes.
    const p = text.split(/(?<!\\):/).map((x) => x.replace(/\\(.)/g, '$1'));
    if (p.length < 6) return undefined;
    [vendor, product, version] = [p[3], p[4], p[5]];
  } else if (text.startsWith('cpe:/')) {
    const p = text.slice('cpe:/'.length).split(':');
    if (p.length < 3) return undefined;
    try {
      [vendor, product, version] = [decodeURIComponent(p[1]), decodeURIComponent(p[2]), p[3] === undefined ? undefined : decodeURIComponent(p[3])];
    } catch {
      return undefined; // a malformed escape: not a CPE to match on
    }
  } else return undefined;
  if (!vendor || !product || vendor === '*' || product === '*') return undefined;
  return { key: `${vendor}:${product}`, ...(version && version !== '*' && version !== '-' ? { version } : {}) };
}

/** purl `pkg:type/namespace/name@version?...` → type/namespace/name and version. */
function purlParts(purl: string): { key: string; version?: string } | undefined {
  const m = /^pkg:([^/]+)\/([^@?#]+)(?:@([^?#]+))?/.exec(purl.trim());
  return m ? { key: `${m[1].toLowerCase()}/${decodeURIComponent(m[2]).toLowerCase()}`, ...(m[3] ? { version: decodeURIComponent(m[3]) } : {}) } : undefined;
}

/**
 * What a product is, independent of the id one revision gives it: an engineer's decision on a match
 * stays with the product when a later revision numbers its products anew.
 */
export function productKey(p: Product): string {
  return JSON.stringify([normaliseName(p.vendor ?? ''), normaliseName(p.name ?? ''), p.version ?? '', p.range ?? '', p.cpe ?? '', p.purl ?? '']);
}

const tokens = (s: string) => new Set(s.split(' ').filter(Boolean));
function similar(a: string, b: string): boolean {
  if (!a || !b) return false;
  const x = tokens(a);
  const y = tokens(b);
  // Model numbers tell products apart, before anything else: Infusa 500 and Infusa 700 are not
  // variants of one name, and neither are Infusa 50 and Infusa 500 (one name inside the other).
  const numbers = (t: Set<string>) =>
    [...t]
      .filter((w) => /\d/.test(w))
      .sort()
      .join(' ');
  if (numbers(x) !== numbers(y)) return false;
  if (a.includes(b) || b.includes(a) || a.replace(/ /g, '') === b.replace(/ /g, '')) return true;
  const common = [...x].filter((t) => y.has(t)).length;
  return common / Math.max(x.size, y.size) >= 0.5;
}

/**
 * The product as far as versions go: an advisory may name the version only inside the product's
 * CPE or purl. Without this, a name match saw "no version" and marked every component or device of
 * that name uncertain, whatever version it runs.
 */
function withIdentifierVersion(p: Product): Product {
  if (p.version || p.range) return p;
  const version = (p.cpe ? cpeParts(p.cpe)?.version : undefined) ?? (p.purl ? purlParts(p.purl)?.version : undefined);
  return version ? { ...p, version } : p;
}

/** The version verdict: the product's own version or range against the item's. */
function versionVerdict(p: Product, version: string | undefined): 'equal' | 'in-range' | 'out' | 'unknown' {
  if (!p.version && !p.range) return 'unknown';
  if (version === undefined) return 'unknown';
  if (p.version) {
    const c = compareVersions(version, p.version);
    return c === undefined ? 'unknown' : c === 0 ? 'equal' : 'out';
  }
  const r = inRange(version, p.range!);
  return r === undefined ? 'unknown' : r ? 'in-range' : 'out';
}

/** Products of many advisories, indexed for lookup by identifier and by vendor. */
export class ProductIndex {
  private readonly byCpe = new Map<string, Array<[string, Product]>>();
  private readonly byPurl = new Map<string, Array<[string, Product]>>();
  /** By normalised vendor, each product with its normalised name (normalised once, here). */
  private readonly byVendor = new Map<string, Array<[string, Product, string]>>();
  private readonly byName = new Map<string, Array<[string, Product]>>();

  constructor(advisories: Iterable<Advisory>) {
    const add = <T>(m: Map<string, T[]>, k: string, v: T) => {
      const list = m.get(k);
      if (list) list.push(v);
      else m.set(k, [v]);
    };
    for (const a of advisories)
      for (const p of a.products.values()) {
        const entry: [string, Product] = [a.id, p];
        const cpe = p.cpe ? cpeParts(p.cpe) : undefined;
        if (cpe) add(this.byCpe, cpe.key, entry);
        const purl = p.purl ? purlParts(p.purl) : undefined;
        if (purl) add(this.byPurl, purl.key, entry);
        if (p.vendor) add(this.byVendor, normaliseName(p.vendor), [a.id, p, normaliseName(p.name ?? '')] as [string, Product, string]);
        else if (p.name) add(this.byName, normaliseName(p.name), entry);
      }
  }

  /** Every (advisory, product) the item matches, with how sure the match is. */
  matches(item: MatchItem): Match[] {
    const out = new Map<string, Match>();
    const keep = (advisory: string, p: Product, certainty: Certainty, via: string) => {
      const k = `${advisory}|${p.id}|${via}`;
      const rank = { exact: 0, range: 1, uncertain: 2 };
      const had = out.get(k);
      if (!had || rank[certainty] < rank[had.certainty]) out.set(k, { advisory, deviceId: item.deviceId, productId: p.id, certainty, via });
    };
    const byIdentifier = (cpe: string | undefined, purl: string | undefined, version: string | undefined, via: string) => {
      const c = cpe ? cpeParts(cpe) : undefined;
      for (const [a, p] of c ? (this.byCpe.get(c.key) ?? []) : []) {
        const pv = cpeParts(p.cpe!)?.version;
        const v = versionVerdict(pv ? { ...p, version: pv } : p, c?.version ?? version);
        if (v !== 'out') keep(a, p, v === 'unknown' ? 'uncertain' : v === 'equal' ? 'exact' : 'range', via);
      }
      const u = purl ? purlParts(purl) : undefined;
      for (const [a, p] of u ? (this.byPurl.get(u.key) ?? []) : []) {
        const pv = purlParts(p.purl!)?.version;
        const v = versionVerdict(pv ? { ...p, version: pv } : p, u?.version ?? version);
        if (v !== 'out') keep(a, p, v === 'unknown' ? 'uncertain' : v === 'equal' ? 'exact' : 'range', via);
      }
    };
    byIdentifier(item.cpe, item.purl, item.reportedVersion, 'device');
    // By name: the same vendor; the product's name the model's, or close to it.
    const model = normaliseName(item.model);
    for (const [a, p, name] of this.byVendor.get(normaliseName(item.vendor)) ?? []) {
      if (!p.name) continue;
      const same = name === model;
      if (!same && !similar(name, model)) continue;
      const v = versionVerdict(withIdentifierVersion(p), item.reportedVersion);
      if (v === 'out') continue;
      keep(a, p, same && v === 'equal' ? 'exact' : same && v === 'in-range' ? 'range' : 'uncertain', 'device');
    }
    // The model's SBOM: a component by its identifiers, else by name alone (uncertain).
    for (const comp of item.components) {
      const via = `component ${comp.name}${comp.version ? ` ${comp.version}` : ''}`;
      byIdentifier(comp.cpe, comp.purl, comp.version, via);
      for (const [a, p] of this.byName.get(normaliseName(comp.name)) ?? []) {
        const v = versionVerdict(withIdentifierVersion(p), comp.version);
        if (v !== 'out') keep(a, p, 'uncertain', via);
      }
    }
    return [...out.values()];
  }
}
