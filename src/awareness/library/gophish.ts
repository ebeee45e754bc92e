/**
 * Importing GoPhish templates and landing pages, so a clinic moving from GoPhish keeps its work.
 *
 * Input is the JSON GoPhish's API returns for one template (name, subject, html, text,
 * envelope_sender, attachments...) or one page (name, html, capture_credentials,
 * capture_passwords, redirect_url). The field names were read from GoPhish's models; no code is
 * taken from it.
 *
 * What is refused, with an error naming the field and never quoting the content (it may be long,
 * or hostile, and errors end up in logs): anything but an object, a missing name or html, Go
 * template logic ({{if}}, {{range}}, {{template}}...: Carewall fills placeholders and runs nothing),
 * a placeholder Carewall does not know, and attachments (not supported in simulations yet: refusing
 * is clearer than sending a message that promises a file and has none).
 *
 * What is ignored on purpose: capture_credentials and capture_passwords (Carewall never captures
 * what was typed, whatever a page says: see landing.ts), redirect_url (after a submission Carewall
 * shows the lesson, not another site), ids and dates (Carewall keeps its own).
 */
import { GENERAL_LESSON_ID, GENERAL_PAGE_ID } from './catalog.js';
import { visibleText } from './html.js';
import { isPlaceholder, placeholdersIn, templateLogicAt, usesTemplateLogic, validateTemplate } from './render.js';
import { PLACEHOLDERS, type Difficulty, type LandingPage, type PhishTemplate } from './types.js';

/** An import refused; `field` is the GoPhish field at fault ('' for the whole input). */
export class GophishImportError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(field ? `GoPhish import: ${field}: ${message}` : `GoPhish import: ${message}`);
    this.name = 'GophishImportError';
  }
}

export interface GophishTemplateOptions {
  /** The new template's id; by default derived from the name ('Rota change!' → 'rota-change'). */
  id?: string;
  /** The landing page a click leads to; by default the shipped sign-in page. */
  landingPage?: string;
  /** The lesson shown after a mistake; by default the general lesson (the three checks). */
  lesson?: string;
  /** Difficulty; 2 by default (the clinic grades it after reading it). */
  difficulty?: Difficulty;
  /**
   * The sender ("Name <address>") when the template has no envelope_sender: GoPhish keeps the From
   * address in its sending profile, not in the template, so an export often has none.
   */
  from?: string;
  /** The landing pages and lessons the template may name; by default just the two it names. */
  known?: { pages: string[]; lessons: string[] };
}

function describe(json: unknown): string {
  if (json === null) return 'null';
  if (Array.isArray(json)) return 'an array';
  return typeof json;
}

function asObject(json: unknown, what: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new GophishImportError('', `a GoPhish ${what} must be a JSON object (got ${describe(json)})`);
  return json as Record<string, unknown>;
}

function requiredText(obj: Record<string, unknown>, field: string): string {
  const value = obj[field];
  if (typeof value !== 'string' || value.trim() === '') throw new GophishImportError(field, 'missing, empty or not text');
  return value;
}

function optionalText(obj: Record<string, unknown>, field: string): string {
  const value = obj[field];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new GophishImportError(field, 'not text');
  return value;
}

/** Refuses Go template logic, unknown placeholders and stray {{ in one field; positions, never content. */
function checkPlaceholders(field: string, value: string): void {
  if (usesTemplateLogic(value)) {
    throw new GophishImportError(
      field,
      'uses Go template logic ({{if}}, {{range}}, {{template}}...), which Carewall does not run: it fills {{.Name}} placeholders only. Rewrite the template without it and import again.',
    );
  }
  const first = [...value.matchAll(/\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)].find((m) => !isPlaceholder(m[1]));
  if (first) {
    throw new GophishImportError(
      field,
      `a placeholder Carewall does not know, at character ${first.index} (known: ${PLACEHOLDERS.map((p) => `{{.${p}}}`).join(' ')})`,
    );
  }
  const at = templateLogicAt(value);
  if (at !== undefined) throw new GophishImportError(field, `"{{" that is not a {{.Name}} placeholder, at character ${at}`);
}

/** "Name <address>", "\"Name\" <address>" or a bare address; undefined when it is none of these. */
export function parseMailbox(value: string): { name: string; address: string } | undefined {
  const ADDRESS = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>".]+$/;
  const trimmed = value.trim();
  const angle = /^(.*?)\s*<([^<>]+)>$/.exec(trimmed);
  const address = (angle ? angle[2] : trimmed).trim();
  if (!ADDRESS.test(address)) return undefined;
  let name = angle ? angle[1].trim() : '';
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replace(/\\(.)/g, '$1');
  // As GoPhish does for {{.From}}: without a display name, the address stands in for it.
  return { name: name || address, address };
}

const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function idFor(name: string, given: string | undefined, what: string): string {
  if (given !== undefined) {
    if (!ID.test(given)) throw new GophishImportError('', `the ${what} id given must be lowercase letters and digits joined by dashes`);
    return given;
  }
  const derived = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  if (!derived) throw new GophishImportError('name', `has no letters or digits to make an id from; give the ${what} an id`);
  return derived;
}

/** GoPhish adds its tracking pixel to HTML that has none; Carewall does the same at import, once, so the template shows it. */
function withTracker(html: string): string {
  if (placeholdersIn(html).includes('Tracker')) return html;
  const close = html.search(/<\/body\s*>/i);
  return close === -1 ? `${html}\n{{.Tracker}}` : `${html.slice(0, close)}{{.Tracker}}\n${html.slice(close)}`;
}

/** A plain-text body from the HTML, for templates exported without one. */
function textFromHtml(html: string): string {
  const text = visibleText(html.replace(/\{\{\s*\.Tracker\s*\}\}/g, ''));
  return placeholdersIn(text).includes('URL') ? text : `${text}\n\n{{.URL}}`;
}

/** One GoPhish template (its API JSON) as a Carewall template; throws GophishImportError. */
export function importGophishTemplate(json: unknown, options: GophishTemplateOptions = {}): PhishTemplate {
  const obj = asObject(json, 'template');
  const name = requiredText(obj, 'name').trim();
  const html = requiredText(obj, 'html');
  const subject = requiredText(obj, 'subject');
  const text = optionalText(obj, 'text');
  const envelopeSender = optionalText(obj, 'envelope_sender');

  const attachments = obj.attachments;
  if (attachments !== undefined && attachments !== null) {
    if (!Array.isArray(attachments)) throw new GophishImportError('attachments', 'not a list');
    if (attachments.length > 0) {
      throw new GophishImportError(
        'attachments',
        'attachments are not supported in simulations yet; remove them in GoPhish (or from the JSON) and import again',
      );
    }
  }

  for (const [field, value] of [
    ['name', name],
    ['subject', subject],
    ['html', html],
    ['text', text],
    ['envelope_sender', envelopeSender],
  ] as const)
    checkPlaceholders(field, value);

  const senderField = envelopeSender.trim() ? 'envelope_sender' : 'from (option)';
  const sender = envelopeSender.trim() || options.from?.trim() || '';
  if (!sender) {
    throw new GophishImportError(
      'envelope_sender',
      'empty: GoPhish keeps the From address in its sending profile, so give the sender as the "from" option ("Name <address>")',
    );
  }
  if (options.from) checkPlaceholders('from (option)', options.from);
  const mailbox = parseMailbox(sender);
  if (!mailbox) throw new GophishImportError(senderField, 'not a mail address such as "Name <name@domain.example>"');

  const template: PhishTemplate = {
    id: idFor(name, options.id, 'template'),
    name,
    difficulty: options.difficulty ?? 2,
    fromName: mailbox.name,
    fromAddress: mailbox.address,
    subject,
    html: withTracker(html),
    text: text.trim() ? text : textFromHtml(html),
    landingPage: options.landingPage ?? GENERAL_PAGE_ID,
    lesson: options.lesson ?? GENERAL_LESSON_ID,
    // A clinic adds the tells after reading the message; GoPhish has no such notion.
    tells: [],
  };
  const problems = validateTemplate(template, options.known ?? { pages: [template.landingPage], lessons: [template.lesson] });
  if (problems.length > 0) throw new GophishImportError('', `the template would not work in Carewall: ${problems.join('; ')}`);
  return template;
}

/**
 * One GoPhish landing page (its API JSON) as a Carewall landing page; throws GophishImportError.
 * The HTML is kept as written: prepareLandingPage (landing.ts) makes it safe each time it is
 * served, whatever capture_credentials or capture_passwords said.
 */
export function importGophishPage(json: unknown, options: { id?: string } = {}): LandingPage {
  const obj = asObject(json, 'landing page');
  const name = requiredText(obj, 'name').trim();
  const html = requiredText(obj, 'html');
  checkPlaceholders('name', name);
  checkPlaceholders('html', html);
  // capture_credentials, capture_passwords and redirect_url are read by no one: see the top of this file.
  return { id: idFor(name, options.id, 'landing page'), name, html };
}
