/**
 * Checking a lesson before staff see it: the shipped ones and any a clinic writes. A lesson is shown
 * inside Carewall's own pages, so its HTML is held to an allowlist (text structure only): a lesson
 * with a script, a handler or an external image would run or load in the console.
 */
import { elementsIn, parseHtmlFragment, readingMinutes } from './html.js';
import type { Lesson } from './types.js';

/** Elements a lesson may use: text and its structure, nothing that loads, runs or styles. */
const ALLOWED_ELEMENTS = new Set([
  'p',
  'h2',
  'h3',
  'h4',
  'ul',
  'ol',
  'li',
  'strong',
  'em',
  'b',
  'i',
  'br',
  'blockquote',
  'code',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'hr',
  'span',
  'abbr',
]);
const ALLOWED_ATTRIBUTES = new Set(['title', 'lang', 'colspan', 'rowspan', 'scope']);

/** The problems of a lesson in plain words (empty when it is fine); names elements and fields, never quotes content. */
export function validateLesson(l: Lesson): string[] {
  const problems: string[] = [];
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(l.id ?? '')) problems.push('id: not lowercase words joined by dashes');
  if (!l.title?.trim()) problems.push('title: empty');
  if (typeof l.html !== 'string' || !l.html.trim()) return [...problems, 'html: empty'];

  const disallowed = new Set<string>();
  const badAttributes = new Set<string>();
  for (const el of elementsIn(parseHtmlFragment(l.html))) {
    if (!ALLOWED_ELEMENTS.has(el.tagName)) disallowed.add(el.tagName);
    for (const a of el.attrs) if (!ALLOWED_ATTRIBUTES.has(a.name)) badAttributes.add(a.name.replace(/[^a-z0-9:-]/gi, '?'));
  }
  if (disallowed.size > 0) problems.push(`html: elements not allowed in a lesson: ${[...disallowed].sort().join(', ')}`);
  if (badAttributes.size > 0) problems.push(`html: attributes not allowed in a lesson: ${[...badAttributes].sort().join(', ')}`);

  const minutes = readingMinutes(l.html);
  if (minutes > 5) problems.push(`html: ${minutes} minutes of reading (five at most)`);
  if (l.minutes !== minutes) problems.push(`minutes: ${l.minutes}, but the text reads in ${minutes}`);

  if (!Array.isArray(l.quiz) || l.quiz.length !== 3) problems.push('quiz: not exactly three questions');
  (Array.isArray(l.quiz) ? l.quiz : []).forEach((q, i) => {
    if (!q.question?.trim()) problems.push(`quiz[${i}]: no question`);
    if (!Array.isArray(q.choices) || q.choices.length < 2 || q.choices.some((c) => !c?.trim()))
      problems.push(`quiz[${i}]: fewer than two choices, or an empty one`);
    else if (!Number.isInteger(q.answer) || q.answer < 0 || q.answer >= q.choices.length) problems.push(`quiz[${i}]: answer is not one of the choices`);
    if (!q.why?.trim()) problems.push(`quiz[${i}]: no explanation (why)`);
  });
  return problems;
}
