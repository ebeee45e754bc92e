/**
 * A person's name as it is written, from FHIR's HumanName list: the official name if there is one,
 * else the first; its `text` as given, else given names and family name in order (a practitioner's
 * prefix too: "Dr Ana Ruiz"). One rule for patients and staff everywhere the server names someone.
 */
interface HumanNameLike {
  use?: string;
  text?: string;
  prefix?: string[];
  given?: string[];
  family?: string;
}

export function writtenName(names: readonly HumanNameLike[] | undefined, options: { prefix?: boolean } = {}): string | undefined {
  const n = names?.find((x) => x.use === 'official') ?? names?.[0];
  if (!n) return undefined;
  if (n.text?.trim()) return n.text.trim();
  const parts = [...(options.prefix ? (n.prefix ?? []) : []), ...(n.given ?? []), n.family].filter((p): p is string => !!p && p.trim() !== '');
  return parts.length > 0 ? parts.join(' ') : undefined;
}
