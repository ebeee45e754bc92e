/**
 * The few HTML helpers the library shares: escaping a value, walking a parsed tree, reading the
 * text a person sees. Parsing is parse5's (the WHATWG algorithm browsers use), so what we check is
 * what a mail client or browser would build, not what a regular expression guesses.
 */
import { parse, parseFragment, type DefaultTreeAdapterTypes } from 'parse5';

export type Node = DefaultTreeAdapterTypes.Node;
export type Element = DefaultTreeAdapterTypes.Element;
export type ParentNode = DefaultTreeAdapterTypes.ParentNode;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes for both text and quoted attribute values (a value lands in either). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export function isElement(node: Node): node is Element {
  return 'tagName' in node;
}

/** Children of a node, including a <template>'s content (which parse5 keeps apart). */
export function childrenOf(node: Node): Node[] {
  const children: Node[] = 'childNodes' in node ? [...node.childNodes] : [];
  if (isElement(node) && node.tagName === 'template' && 'content' in node) children.push(...(node as DefaultTreeAdapterTypes.Template).content.childNodes);
  return children;
}

/** Every element under a node, depth first. */
export function elementsIn(root: Node): Element[] {
  const out: Element[] = [];
  const visit = (node: Node): void => {
    if (isElement(node)) out.push(node);
    for (const child of childrenOf(node)) visit(child);
  };
  visit(root);
  return out;
}

export function attr(el: Element, name: string): string | undefined {
  return el.attrs.find((a) => a.name === name)?.value;
}

export function parseDocument(html: string): DefaultTreeAdapterTypes.Document {
  return parse(html);
}

export function parseHtmlFragment(html: string): DefaultTreeAdapterTypes.DocumentFragment {
  return parseFragment(html);
}

// Elements after which a reader sees a break: without a space there, "<p>a</p><p>b</p>" would read "ab".
const BLOCKS = new Set(['p', 'div', 'br', 'li', 'ul', 'ol', 'td', 'th', 'tr', 'table', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'hr', 'section']);
const UNSEEN = new Set(['script', 'style', 'head', 'title', 'template', 'noscript']);

/** The text a person reads in an HTML document or fragment, whitespace collapsed to single spaces. */
export function visibleText(html: string): string {
  const parts: string[] = [];
  const visit = (node: Node): void => {
    if (node.nodeName === '#text') parts.push((node as DefaultTreeAdapterTypes.TextNode).value);
    if (isElement(node) && UNSEEN.has(node.tagName)) return;
    for (const child of childrenOf(node)) visit(child);
    if (isElement(node) && BLOCKS.has(node.tagName)) parts.push(' ');
  };
  visit(/<html[\s>]/i.test(html) ? parseDocument(html) : parseHtmlFragment(html));
  return collapse(parts.join(''));
}

export function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Words a reader reads in an HTML fragment. */
export function wordCount(html: string): number {
  const text = visibleText(html);
  return text === '' ? 0 : text.split(' ').length;
}

/** Reading time at about 200 words a minute, rounded up, at least one minute. */
export const WORDS_PER_MINUTE = 200;
export function readingMinutes(html: string): number {
  return Math.max(1, Math.ceil(wordCount(html) / WORDS_PER_MINUTE));
}
