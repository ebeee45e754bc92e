/**
 * The narrative's XHTML (Narrative.div) against FHIR's rules: one `div` in the XHTML namespace
 * (the JSON format's rule), some content (txt-2), and only the plain formatting elements and
 * attributes HTML 4 describes, links and images (txt-1): no script, no style sheets, no forms or
 * frames, no event handlers, no `javascript:` address. A narrative is shown to clinicians by other
 * systems as it is stored, so what would run there is refused, never stored (and never rewritten
 * silently: the sender is told which rule it broke).
 *
 * parse5 (a well-kept HTML parser) reads it as a browser would, so that what is judged is what a
 * browser would build from it.
 */
import { parseFragment, type DefaultTreeAdapterMap } from 'parse5';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

const XHTML = 'http://www.w3.org/1999/xhtml';
/** Elements of HTML 4's chapters 7–11 and 15 (less 9.4), links and images, as FHIR's txt-1 lists them. */
const ELEMENTS = new Set(
  (
    'p br div h1 h2 h3 h4 h5 h6 a span b em i strong small big tt dfn q var abbr acronym cite blockquote hr address bdo kbd sub sup ' +
    'ul ol li dl dt dd pre table caption colgroup col thead tr tfoot tbody th td code samp img map area ins del u s strike center font'
  ).split(' '),
);
const ATTRIBUTES = new Set(
  (
    'title style class id lang xml:lang dir accesskey tabindex rowspan colspan span align valign char charoff width height border ' +
    'cellspacing cellpadding summary frame rules abbr axis headers scope nowrap bgcolor start type value compact href name hreflang rel rev ' +
    'shape coords target src alt longdesc usemap ismap cite datetime size color face clear noshade'
  ).split(' '),
);
/** Addresses a link or image may use: the web, mail, telephone, or a place in the same document or bundle. */
const SAFE_URL = /^(https?:|mailto:|tel:|#|[^:]*$)/i;

/** What is wrong with a narrative's div, in words; undefined when it is acceptable. */
export function narrativeProblem(div: unknown): string | undefined {
  if (typeof div !== 'string') return undefined; // its presence and type are the structural validator's
  const fragment = parseFragment(div);
  const roots = fragment.childNodes.filter((n) => !(n.nodeName === '#text' && !(n as DefaultTreeAdapterMap['textNode']).value.trim()));
  if (roots.length !== 1 || roots[0].nodeName !== 'div') return 'the narrative must be a single div element';
  const root = roots[0] as Element;
  if (root.attrs.find((a) => a.name === 'xmlns')?.value !== XHTML) return `the narrative's div must declare the XHTML namespace (xmlns="${XHTML}")`;
  let content = false;
  const visit = (node: Node): string | undefined => {
    if (node.nodeName === '#text') {
      if ((node as DefaultTreeAdapterMap['textNode']).value.trim()) content = true;
      return undefined;
    }
    if (node.nodeName === '#comment') return undefined;
    const el = node as Element;
    if (!ELEMENTS.has(el.tagName)) return `txt-1: the narrative may not contain <${el.tagName}> elements`;
    if (el.tagName === 'img') content = true;
    for (const a of el.attrs) {
      const name = a.prefix ? `${a.prefix}:${a.name}` : a.name;
      if (el === root && name === 'xmlns') continue;
      if (!ATTRIBUTES.has(name)) return `txt-1: the narrative may not carry the attribute ${/^on/i.test(name) ? '(an event handler)' : name}`;
      if ((name === 'href' || name === 'src' || name === 'longdesc' || name === 'cite') && !SAFE_URL.test(a.value.trim()))
        return 'txt-1: the narrative may link only to web, mail or telephone addresses, or within the document';
      if (name === 'style' && /expression\s*\(|url\s*\(|@import|behavior\s*:/i.test(a.value))
        return 'txt-1: the narrative’s style may not load or run anything';
    }
    for (const child of el.childNodes) {
      const problem = visit(child);
      if (problem) return problem;
    }
    return undefined;
  };
  const problem = visit(root);
  if (problem) return problem;
  return content ? undefined : 'txt-2: the narrative has no content';
}
