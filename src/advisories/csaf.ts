/**
 * A CSAF 2.0 advisory (the format of CISA's ICS medical advisories and of vendors' PSIRTs), checked
 * with the BSI's validator (@secvisogram/csaf-validator-lib: the JSON schema and the mandatory
 * tests), then read as far as matching needs: the products (vendor, name, version or range, CPE,
 * purl) and, per vulnerability, which products are affected, fixed or not affected, its severity
 * and the vendor's fixes.
 */

export interface Product {
  id: string;
  vendor?: string;
  name?: string;
  version?: string;
  range?: string;
  cpe?: string;
  purl?: string;
}

export type VexStatus = 'affected' | 'not_affected' | 'fixed' | 'under_investigation';

export interface Vulnerability {
  /** The CVE, or the advisory's own number for it. */
  key: string;
  title: string;
  severity?: string;
  score?: number;
  status: Map<string, VexStatus>;
  /** VEX justification labels of not-affected products. */
  justification: Map<string, string>;
  fixes: Array<{ productIds: string[]; details: string; url?: string }>;
}

export interface Advisory {
  id: string;
  version: string;
  title: string;
  publisher: string;
  released: string;
  severity?: string;
  products: Map<string, Product>;
  vulnerabilities: Vulnerability[];
}

/** Thrown for a document that is not valid CSAF 2.0: which rule failed and where, never a value from it. */
export class InvalidAdvisory extends Error {}

/**
 * The validator is loaded on first use: it compiles its JSON schemas when imported (about 2.4 s on
 * this project's CI machine), a price every CLI command, server start and test process paid before
 * even one advisory was imported.
 */
type Test = import('@secvisogram/csaf-validator-lib/validate.js').Test;
let validator: Promise<(doc: unknown) => ReturnType<typeof import('@secvisogram/csaf-validator-lib/validate.js').default>> | undefined;
function loadValidator() {
  validator ??= Promise.all([import('@secvisogram/csaf-validator-lib/validate.js'), import('@secvisogram/csaf-validator-lib/basic.js')]).then(
    ([{ default: validate }, basic]) =>
      (doc: unknown) =>
        validate(
          Object.values(basic as Record<string, unknown>).filter((test): test is Test => typeof test === 'function'),
          doc,
        ),
  );
  return validator;
}

export async function validateCsaf(doc: unknown): Promise<void> {
  const result = await (await loadValidator())(doc);
  if (result.isValid) return;
  const failures = result.tests.filter((t) => !t.isValid);
  const first = failures[0]?.errors[0];
  throw new InvalidAdvisory(
    `not a valid CSAF 2.0 document: ${failures.length} check(s) failed, first ${failures[0]?.name ?? 'unknown'}${first ? ` at ${first.instancePath || '/'}` : ''}`,
  );
}

const STATUS_OF: Record<string, VexStatus> = {
  known_affected: 'affected',
  first_affected: 'affected',
  last_affected: 'affected',
  fixed: 'fixed',
  first_fixed: 'fixed',
  known_not_affected: 'not_affected',
  under_investigation: 'under_investigation',
};

// A validated CSAF document: its shape is the schema's, checked by validateCsaf before it is read here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** The parts of a validated document that matching uses. */
export function readAdvisory(doc: Json): Advisory {
  const products = new Map<string, Product>();
  const helper = (p: Json | undefined) => ({
    ...(p?.product_identification_helper?.cpe ? { cpe: String(p.product_identification_helper.cpe) } : {}),
    ...(p?.product_identification_helper?.purl ? { purl: String(p.product_identification_helper.purl) } : {}),
  });
  const walk = (branches: Json[] | undefined, ctx: Omit<Product, 'id'>) => {
    for (const b of branches ?? []) {
      const next = { ...ctx };
      if (b.category === 'vendor') next.vendor = b.name;
      else if (b.category === 'product_name' || b.category === 'product_family')
        next.name = next.name && b.category === 'product_name' ? `${next.name} ${b.name}` : b.name;
      else if (b.category === 'product_version') next.version = b.name;
      else if (b.category === 'product_version_range') next.range = b.name;
      if (b.product?.product_id) products.set(b.product.product_id, { id: b.product.product_id, ...next, ...helper(b.product) });
      walk(b.branches, next);
    }
  };
  walk(doc.product_tree?.branches, {});
  for (const p of doc.product_tree?.full_product_names ?? [])
    if (!products.has(p.product_id)) products.set(p.product_id, { id: p.product_id, name: p.name, ...helper(p) });
  // "X installed on Y": the component's identity under the relationship's own product id.
  for (const r of doc.product_tree?.relationships ?? []) {
    const component = products.get(r.product_reference);
    if (component && r.full_product_name?.product_id) products.set(r.full_product_name.product_id, { ...component, id: r.full_product_name.product_id });
  }
  const vulnerabilities = (doc.vulnerabilities ?? []).map((v: Json, i: number): Vulnerability => {
    const status = new Map<string, VexStatus>();
    for (const [field, s] of Object.entries(STATUS_OF)) for (const id of v.product_status?.[field] ?? []) status.set(id, s);
    const justification = new Map<string, string>();
    for (const f of v.flags ?? []) for (const id of f.product_ids ?? []) justification.set(id, f.label);
    const scores = (v.scores ?? []).map((s: Json) => s.cvss_v3 ?? s.cvss_v2).filter(Boolean);
    const best = scores.sort((a: Json, b: Json) => (b.baseScore ?? 0) - (a.baseScore ?? 0))[0];
    return {
      key: v.cve ?? `${doc.document.tracking.id}#${i + 1}`,
      title: v.title ?? v.cve ?? `vulnerability ${i + 1}`,
      ...(best?.baseSeverity
        ? { severity: String(best.baseSeverity).toLowerCase() }
        : best?.baseScore !== undefined
          ? { severity: severityOf(best.baseScore) }
          : {}),
      ...(best?.baseScore !== undefined ? { score: Number(best.baseScore) } : {}),
      status,
      justification,
      fixes: (v.remediations ?? [])
        .filter((r: Json) => r.category === 'vendor_fix')
        .map((r: Json) => ({ productIds: r.product_ids ?? [], details: String(r.details ?? ''), ...(r.url ? { url: String(r.url) } : {}) })),
    };
  });
  const severities = vulnerabilities.map((v: Vulnerability) => v.severity).filter((s: string | undefined): s is string => !!s);
  return {
    id: doc.document.tracking.id,
    version: doc.document.tracking.version,
    title: doc.document.title,
    publisher: doc.document.publisher?.name ?? '',
    released: doc.document.tracking.current_release_date,
    ...(severities.length ? { severity: highest(severities) } : {}),
    products,
    vulnerabilities,
  };
}

export const SEVERITY_ORDER = ['none', 'low', 'medium', 'high', 'critical'];

export function highest(severities: string[]): string | undefined {
  return [...severities].sort((a, b) => SEVERITY_ORDER.indexOf(b) - SEVERITY_ORDER.indexOf(a))[0];
}

function severityOf(score: number): string {
  return score >= 9 ? 'critical' : score >= 7 ? 'high' : score >= 4 ? 'medium' : score > 0 ? 'low' : 'none';
}
