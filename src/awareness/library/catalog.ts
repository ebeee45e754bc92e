/** What Carewall ships: the templates, landing pages and lessons, and lookups by id. */
import { BASIC_LESSONS } from './lessons-basics.js';
import { LURE_LESSONS } from './lessons-lures.js';
import { SHIPPED_PAGES } from './pages.js';
import { AUTHORITY_TEMPLATES } from './templates-authority.js';
import { DAILY_TEMPLATES } from './templates-daily.js';
import type { LandingPage, Lesson, PhishTemplate } from './types.js';

export { SHIPPED_PAGES };

export const SHIPPED_TEMPLATES: readonly PhishTemplate[] = Object.freeze([...DAILY_TEMPLATES, ...AUTHORITY_TEMPLATES]);
export const SHIPPED_LESSONS: readonly Lesson[] = Object.freeze([...BASIC_LESSONS, ...LURE_LESSONS]);

/** The lesson for a template that has none of its own (a GoPhish import): the three general checks. */
export const GENERAL_LESSON_ID = 'phishing-basics';
/** The landing page for a template that names none (a GoPhish import): a sign-in form. */
export const GENERAL_PAGE_ID = 'sign-in-portal';

/** The longer course for people who fail repeatedly, in reading order. */
export const COURSE_LESSONS: readonly Lesson[] = Object.freeze(SHIPPED_LESSONS.filter((l) => l.course));

export function templateById(id: string): PhishTemplate | undefined {
  return SHIPPED_TEMPLATES.find((t) => t.id === id);
}

export function pageById(id: string): LandingPage | undefined {
  return SHIPPED_PAGES.find((p) => p.id === id);
}

export function lessonById(id: string): Lesson | undefined {
  return SHIPPED_LESSONS.find((l) => l.id === id);
}

/** The shipped ids, in the shape validateTemplate takes (a clinic's own pages and lessons are added by the caller). */
export function shippedIds(): { pages: string[]; lessons: string[] } {
  return { pages: SHIPPED_PAGES.map((p) => p.id), lessons: SHIPPED_LESSONS.map((l) => l.id) };
}
