/**
 * Making a landing page safe to serve (issue 26): a simulation records THAT someone submitted a
 * form, never WHAT they typed. A browser does not send a form field that has no name, so every
 * input, select and textarea loses its name here: what a person types never leaves their browser.
 * The server also ignores any request body (the campaign routes' part); the two hold each other up.
 *
 * The page is also stripped of what could run code, load another page inside it, redirect or change
 * where the form goes: scripts, frames, objects, <base>, <meta http-equiv>, on* handlers,
 * javascript: URLs, a button's formaction, linked stylesheets and scripts. A page imported from
 * GoPhish (often a copy of a real sign-in page) goes through the same steps.
 */
import { serialize } from 'parse5';
import { attr, childrenOf, elementsIn, parseDocument, type Element, type Node } from './html.js';

/** Elements removed with everything inside them. */
const REMOVED = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'link', 'portal', 'noscript', 'animate', 'set']);
/** Attributes that would send the form, or part of it, somewhere else. */
const REDIRECTING = new Set(['formaction', 'formmethod', 'formenctype', 'formtarget', 'srcdoc', 'ping']);
/** Attributes holding a URL, where a script: URL would run code. */
const URL_ATTRS = new Set(['href', 'src', 'action', 'xlink:href', 'background', 'poster', 'data', 'cite', 'lowsrc', 'dynsrc', 'longdesc', 'manifest']);
const FIELDS = new Set(['input', 'select', 'textarea']);

/** A URL that runs code when followed (whitespace and control characters are ignored by browsers, so by us too). */
function isScriptUrl(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  const compact = value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
  return compact.startsWith('javascript:') || compact.startsWith('vbscript:') || compact.startsWith('data:text/html');
}

function setAttr(el: Element, name: string, value: string): void {
  const existing = el.attrs.find((a) => a.name === name);
  if (existing) existing.value = value;
  else el.attrs.push({ name, value });
}

function removeNode(node: Node): void {
  const parent = 'parentNode' in node ? node.parentNode : null;
  if (parent) parent.childNodes = parent.childNodes.filter((child) => child !== node);
}

function checkSubmitUrl(submitUrl: string): void {
  // Either a path on Carewall's own host or an absolute http(s) URL; anything else (javascript:, a
  // protocol-relative //host) would turn the safety step into the hole.
  if (/^\/(?![/\\])/.test(submitUrl)) return;
  let url: URL;
  try {
    url = new URL(submitUrl);
  } catch {
    throw new Error('prepareLandingPage: submitUrl must be a path starting with "/" or an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error('prepareLandingPage: submitUrl must be a path starting with "/" or an http(s) URL');
}

/**
 * Returns a full HTML document: the given page with the dangerous parts removed, every form posting
 * to submitUrl, and no form field able to carry what was typed (no name, no password value,
 * autocomplete off so the browser does not offer saved passwords either).
 *
 * Fill placeholders (renderTemplate with html: true) before calling this, so nothing a value brings
 * can come after these steps.
 */
export function prepareLandingPage(html: string, submitUrl: string): string {
  checkSubmitUrl(submitUrl);
  const doc = parseDocument(html);

  for (const el of elementsIn(doc)) {
    if (REMOVED.has(el.tagName) || (el.tagName === 'meta' && attr(el, 'http-equiv') !== undefined)) {
      removeNode(el);
      continue;
    }
    el.attrs = el.attrs.filter((a) => {
      const name = a.name.toLowerCase();
      if (name.startsWith('on') || REDIRECTING.has(name)) return false;
      if (URL_ATTRS.has(name) && isScriptUrl(a.value)) return false;
      return true;
    });
    if (FIELDS.has(el.tagName)) {
      // The point of the page: an unnamed field is never submitted by the browser.
      el.attrs = el.attrs.filter((a) => a.name !== 'name' && a.name !== 'form');
      if (el.tagName === 'input' && attr(el, 'type')?.toLowerCase() === 'password') el.attrs = el.attrs.filter((a) => a.name !== 'value');
      setAttr(el, 'autocomplete', 'off');
    }
    if (el.tagName === 'form') {
      el.attrs = el.attrs.filter((a) => !['target', 'enctype', 'name'].includes(a.name));
      setAttr(el, 'action', submitUrl);
      setAttr(el, 'method', 'post');
      setAttr(el, 'autocomplete', 'off');
    }
  }

  // Comments go too: old conditional comments could carry markup, and a copied page's comments may hold the original site's notes.
  const dropComments = (node: Node): void => {
    if ('childNodes' in node) node.childNodes = node.childNodes.filter((child) => child.nodeName !== '#comment');
    for (const child of childrenOf(node)) dropComments(child);
  };
  dropComments(doc);

  const hasDoctype = childrenOf(doc).some((n) => n.nodeName === '#documentType');
  const out = serialize(doc);
  return hasDoctype ? out : `<!DOCTYPE html>${out}`;
}
