/**
 * The SBOM handed in with a release: a CycloneDX JSON document (1.4 to 1.6), read only as far as
 * the advisory check needs it (each component's name, version and identifiers). What is not a
 * CycloneDX document is refused; the document itself is kept whole.
 */

export interface SbomComponent {
  name: string;
  version?: string;
  purl?: string;
  cpe?: string;
}

const SPEC_VERSIONS = ['1.4', '1.5', '1.6'];
const MAX_COMPONENTS = 20_000;

export function checkSbom(doc: unknown): SbomComponent[] {
  const bom = doc as { bomFormat?: unknown; specVersion?: unknown; components?: unknown } | null;
  if (typeof bom !== 'object' || bom === null || Array.isArray(bom) || bom.bomFormat !== 'CycloneDX')
    throw new Error('the SBOM is a CycloneDX JSON document (bomFormat "CycloneDX")');
  if (typeof bom.specVersion !== 'string' || !SPEC_VERSIONS.includes(bom.specVersion))
    throw new Error(`CycloneDX specVersion ${SPEC_VERSIONS.join(', ')} is read`);
  const out: SbomComponent[] = [];
  const walk = (list: unknown, where: string) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) throw new Error(`${where} is a list`);
    list.forEach((c: unknown, i) => {
      const at = `${where}[${i}]`;
      const comp = c as { name?: unknown; version?: unknown; purl?: unknown; cpe?: unknown; components?: unknown } | null;
      if (typeof comp !== 'object' || comp === null || typeof comp.name !== 'string' || comp.name.length === 0) throw new Error(`${at} has no name`);
      for (const f of ['version', 'purl', 'cpe'] as const) if (comp[f] !== undefined && typeof comp[f] !== 'string') throw new Error(`${at}.${f} is text`);
      if (out.length >= MAX_COMPONENTS) throw new Error(`more than ${MAX_COMPONENTS} components`);
      out.push({
        name: comp.name,
        ...(comp.version ? { version: comp.version as string } : {}),
        ...(comp.purl ? { purl: comp.purl as string } : {}),
        ...(comp.cpe ? { cpe: comp.cpe as string } : {}),
      });
      walk(comp.components, `${at}.components`);
    });
  };
  walk(bom.components, 'components');
  return out;
}
