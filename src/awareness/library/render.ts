/**
 * Filling a template's placeholders, and checking a template before it is used.
 *
 * Only GoPhish's simple placeholders are understood: {{.Name}}, with the spaces Go templates allow
 * ({{ .Name }}). There is no evaluation and no Go template logic: {{if}}, {{range}}, {{template}},
 * pipelines and functions are never run. Anything that is not a simple placeholder is left as it is
 * here, reported by validateTemplate, and refused with a clear message when a GoPhish template is
 * imported (gophish.ts), so a clinic rewrites it rather than having it half-work in a sent mail.
 */
import { PLACEHOLDERS, type PhishTemplate, type Placeholder } from './types.js';
import { collapse, escapeHtml, visibleText } from './html.js';

/** {{.Name}} or {{ .Name }}: the one form filled in. */
const PLACEHOLDER = /\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
/** The start of Go template actions that are logic, not a value. */
const LOGIC = /\{\{-?\s*(if|else|end|range|with|template|define|block|break|continue)\b/;

const KNOWN = new Set<string>(PLACEHOLDERS);

export function isPlaceholder(name: string): name is Placeholder {
  return KNOWN.has(name);
}

/** The placeholder names used in a text (known or not), each once, in order of first use. */
export function placeholdersIn(text: string): string[] {
  const seen = new Set<string>();
  for (const match of text.matchAll(PLACEHOLDER)) seen.add(match[1]);
  return [...seen];
}

/**
 * Where a text holds something between {{ and }} that is not a simple placeholder (Go template
 * logic, a function call, a stray {{), as a character offset; undefined when there is none.
 */
export function templateLogicAt(text: string): number | undefined {
  const stripped = text.replace(PLACEHOLDER, (m) => ' '.repeat(m.length));
  const at = stripped.indexOf('{{');
  return at === -1 ? undefined : at;
}

/** True when the text uses Go's control structures ({{if}}, {{range}}, {{template}}...). */
export function usesTemplateLogic(text: string): boolean {
  return LOGIC.test(text);
}

/**
 * The tracking pixel {{.Tracker}} becomes, built from TrackingURL. GoPhish hands templates a ready
 * <img> string; taking markup from a value would mean not escaping it, so Carewall builds the
 * element itself and escapes the URL like any other value.
 */
export function trackerPixel(trackingUrl: string): string {
  return `<img src="${escapeHtml(trackingUrl)}" alt="" width="1" height="1" style="display:none">`;
}

export type PlaceholderValues = Partial<Record<Placeholder, string>>;

/**
 * Replaces {{.Name}} with values[Name], HTML-escaped when options.html is true (a recipient's name
 * such as `<img src=x onerror=...>` arrives as text, never as markup).
 *
 * - A known placeholder without a value becomes empty, as in GoPhish (a recipient without a position).
 * - {{.Tracker}} is the pixel built from values.TrackingURL in HTML, and nothing in plain text
 *   (there is no image to load there). A values.Tracker is refused with an error rather than
 *   ignored, so a caller who passes one learns why it is not used.
 * - Unknown placeholders and any other {{...}} are left as written: visible in a preview and
 *   reported by validateTemplate, never silently dropped.
 */
export function renderTemplate(text: string, values: PlaceholderValues, options: { html: boolean }): string {
  if (values.Tracker !== undefined) throw new Error('renderTemplate: pass TrackingURL, not Tracker; the pixel is built from TrackingURL (escaped)');
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    if (!isPlaceholder(name)) return whole;
    if (name === 'Tracker') return options.html && values.TrackingURL ? trackerPixel(values.TrackingURL) : '';
    const value = values[name] ?? '';
    return options.html ? escapeHtml(value) : value;
  });
}

/** What validateTemplate (and a preview) fills in: plain values that cannot be confused with a template's own text. */
export const SAMPLE_VALUES: Readonly<Required<Omit<Record<Placeholder, string>, 'Tracker' | 'From'>>> = Object.freeze({
  FirstName: 'Robin',
  LastName: 'Sample',
  Email: 'robin.sample@clinic.example',
  Position: 'Practice nurse',
  Department: 'Outpatients',
  URL: 'https://carewall.clinic.example/a/c?rid=SAMPLE1',
  TrackingURL: 'https://carewall.clinic.example/a/t?rid=SAMPLE1',
  RId: 'SAMPLE1',
  BaseURL: 'https://carewall.clinic.example',
});

/** The values for a preview of this template: the samples, with From as the template's display name (as GoPhish does). */
export function sampleValuesFor(t: Pick<PhishTemplate, 'fromName'>): PlaceholderValues {
  return { ...SAMPLE_VALUES, From: renderTemplate(t.fromName, SAMPLE_VALUES, { html: false }) };
}

export interface RenderedMessage {
  /** "Display name <address>", as a mail client shows the sender. */
  from: string;
  subject: string;
  html: string;
  text: string;
}

/** A template rendered with the given values: what one recipient receives. */
export function renderMessage(t: PhishTemplate, values: PlaceholderValues): RenderedMessage {
  const plain = (s: string) => renderTemplate(s, values, { html: false });
  return {
    from: `${plain(t.fromName)} <${plain(t.fromAddress)}>`,
    subject: plain(t.subject),
    html: renderTemplate(t.html, values, { html: true }),
    text: plain(t.text),
  };
}

/**
 * The problems of a template, in plain words (empty when it is fine): unknown placeholders, template
 * logic, a missing {{.URL}} or {{.Tracker}}, tells whose marker does not appear in the message
 * rendered with sample values, an unknown landing page or lesson. Messages name fields and
 * placeholder names, never a template's content, so they are safe to log.
 */
export function validateTemplate(t: PhishTemplate, known: { pages: string[]; lessons: string[] }): string[] {
  const problems: string[] = [];
  const fields = { fromName: t.fromName, fromAddress: t.fromAddress, subject: t.subject, html: t.html, text: t.text } as const;
  for (const [field, value] of Object.entries(fields)) {
    if (typeof value !== 'string') {
      problems.push(`${field}: not text`);
      continue;
    }
    const unknown = placeholdersIn(value).filter((name) => !isPlaceholder(name));
    if (unknown.length > 0) problems.push(`${field}: unknown placeholder${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `{{.${n}}}`).join(', ')}`);
    const at = templateLogicAt(value);
    if (at !== undefined) problems.push(`${field}: template logic or a stray "{{" at character ${at} (only {{.Name}} placeholders are filled)`);
  }
  if (!t.name?.trim()) problems.push('name: empty');
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(t.id ?? '')) problems.push('id: not lowercase words joined by dashes');
  if (![1, 2, 3].includes(t.difficulty)) problems.push('difficulty: not 1, 2 or 3');
  if (!placeholdersIn(t.html ?? '').includes('URL')) problems.push('html: no {{.URL}} (the tracked link)');
  if (!placeholdersIn(t.text ?? '').includes('URL')) problems.push('text: no {{.URL}} (the tracked link)');
  if (!placeholdersIn(t.html ?? '').includes('Tracker')) problems.push('html: no {{.Tracker}} (the tracked pixel)');
  if (!known.pages.includes(t.landingPage)) problems.push('landingPage: not a known landing page');
  if (!known.lessons.includes(t.lesson)) problems.push('lesson: not a known lesson');
  if (problems.length > 0) return problems;

  // Markers are looked for in what a person sees: the sender line, the subject, the HTML's visible text.
  const message = renderMessage(t, sampleValuesFor(t));
  const seen = { from: collapse(message.from), subject: collapse(message.subject), body: visibleText(message.html) };
  t.tells.forEach((tell, i) => {
    if (!tell.marker.trim()) problems.push(`tells[${i}]: empty marker`);
    else if (!seen[tell.in]?.includes(collapse(tell.marker))) problems.push(`tells[${i}]: marker not found in the rendered ${tell.in}`);
    if (!tell.explanation?.trim()) problems.push(`tells[${i}]: no explanation`);
  });
  return problems;
}
