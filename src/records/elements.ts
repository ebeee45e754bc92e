/**
 * `_elements` (FHIR R4 search, "Summary and elements"; Bulk Data kick-off): a resource is returned
 * with the root elements named and nothing else, but for what FHIR keeps whatever is asked
 * (resourceType, id, meta, the mandatory and modifier elements: without a modifier such as
 * `status` or `Patient.active` a resource could be read as meaning its opposite). A resource that
 * lost elements this way is tagged SUBSETTED, so that nobody mistakes it for the whole record or
 * writes it back as one.
 *
 * Names are root elements only, bare (`name`: every type in the answer that has it) or typed
 * (`Patient.name`: that type only); a choice is named without its type (`value`, `deceased`).
 * Anything else (a nested path, an element no type in the answer has) is refused with a 400 that
 * names its position, never its text.
 */
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, isSupportedType } from '../shared/index.js';
import { rootElements, type RootElement } from './validate.js';
import { SUBSETTED } from './groupMembers.js';

/** What `_elements` asked for: bare names, and names per type. */
export interface ElementSelection {
  bare: Set<string>;
  typed: Map<string, Set<string>>;
}

/** Always kept: what makes a resource a resource, whatever the definitions say of it. */
const ALWAYS = new Set(['resourceType', 'id', 'meta']);

/**
 * Parses `_elements` values (each comma-separated) for an answer holding these types; undefined when
 * none was sent. Each name must be a root element of one of the types (of its own type when typed).
 */
export function parseElements(values: readonly string[] | undefined, types: readonly string[]): ElementSelection | undefined {
  if (values === undefined) return undefined;
  const selection: ElementSelection = { bare: new Set(), typed: new Map() };
  const names = values.flatMap((v) => v.split(',')).map((n) => n.trim());
  if (names.length === 0) throw badRequest('_elements names no element');
  names.forEach((item, i) => {
    const which = `_elements item ${i + 1}`;
    const m = /^(?:([A-Z][A-Za-z]{1,63})\.)?([a-z][A-Za-z0-9]{0,63})$/.exec(item);
    if (!m) throw badRequest(`${which}: name a root element (such as name, or Patient.name); nested paths are not supported`);
    const [, type, name] = m;
    if (type !== undefined) {
      if (!isSupportedType(type) || !types.includes(type) || !hasElement(type, name)) throw badRequest(`${which} is not an element of a type in this answer`);
      const set = selection.typed.get(type) ?? new Set<string>();
      set.add(name);
      selection.typed.set(type, set);
    } else {
      if (!types.some((t) => hasElement(t, name))) throw badRequest(`${which} is not an element of a type in this answer`);
      selection.bare.add(name);
    }
  });
  return selection;
}

/** The resource with only the selected elements and those always kept; tagged SUBSETTED when anything was left out. */
export function withElements<T extends Resource | undefined>(selection: ElementSelection | undefined, resource: T): T {
  if (!selection || !resource) return resource;
  const elements = rootElements(resource.resourceType) ?? [];
  const wanted = new Set([...selection.bare, ...(selection.typed.get(resource.resourceType) ?? [])]);
  const out: Record<string, unknown> = {};
  let left = false;
  for (const [key, value] of Object.entries(resource)) {
    // A primitive's extensions travel as `_name` beside it and go where it goes.
    const element = elementOf(elements, key.startsWith('_') ? key.slice(1) : key);
    const keep = ALWAYS.has(key) || (element !== undefined && (element.kept || wanted.has(element.name)));
    if (keep) out[key] = value;
    else left = true;
  }
  if (!left) return resource;
  const meta = (out.meta ?? {}) as NonNullable<Resource['meta']>;
  out.meta = { ...meta, tag: [...(meta.tag ?? []).filter((t) => t.code !== SUBSETTED.code), SUBSETTED] };
  return out as T;
}

function hasElement(type: string, name: string): boolean {
  return (rootElements(type) ?? []).some((e) => e.name === name);
}

/** The root element a JSON key belongs to: itself, or a choice's typed form (valueQuantity → value). */
function elementOf(elements: RootElement[], key: string): RootElement | undefined {
  return elements.find((e) => e.name === key) ?? elements.find((e) => e.choice && key.startsWith(e.name) && /^[A-Z]/.test(key.slice(e.name.length)));
}
