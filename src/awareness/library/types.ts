/**
 * What the awareness library ships and what a clinic adds: simulated phishing templates, their
 * landing pages, and the short lessons (with quizzes) shown at the moment of a mistake.
 *
 * Placeholders follow GoPhish's syntax ({{.FirstName}}, {{.URL}}, {{.Tracker}}...) so that a clinic
 * moving from GoPhish keeps its templates and pages unchanged (library/gophish.ts imports them).
 */

/** 1: the tells are plain; 2: a careful reader sees them; 3: only a trained eye does. */
export type Difficulty = 1 | 2 | 3;

/** Something in the message that gives it away, shown on the message itself in the lesson. */
export interface Tell {
  /** Text that appears verbatim in the rendered subject, sender or body, highlighted in the lesson. */
  marker: string;
  /** Where the marker is: the lesson highlights it there. */
  in: 'from' | 'subject' | 'body';
  /** Why it gives the message away, in plain words (one or two sentences). */
  explanation: string;
}

export interface PhishTemplate {
  /** Stable identifier (lowercase, dashes), e.g. 'lab-result-ready'. */
  id: string;
  name: string;
  difficulty: Difficulty;
  /** The display name and address the message claims to come from; may hold placeholders. */
  fromName: string;
  fromAddress: string;
  subject: string;
  /** HTML body with placeholders; {{.URL}} is the tracked link, {{.Tracker}} the tracked pixel. */
  html: string;
  /** Plain-text alternative with placeholders. */
  text: string;
  /** The landing page a click leads to (LandingPage.id); clicking a simulation then shows the lesson. */
  landingPage: string;
  /** The lesson for this message's kind of lure (Lesson.id). */
  lesson: string;
  tells: Tell[];
}

export interface LandingPage {
  id: string;
  name: string;
  /**
   * HTML of a page that imitates what the lure promised (a sign-in form, a parcel form...). Forms
   * are allowed: Carewall strips every typed value in the browser and ignores any body on the
   * server, recording only that the form was submitted.
   */
  html: string;
}

export interface QuizQuestion {
  question: string;
  choices: string[];
  /** Index into choices. */
  answer: number;
  /** Shown after answering, whatever the answer. */
  why: string;
}

export interface Lesson {
  id: string;
  title: string;
  /** Reading time in minutes (five or less). */
  minutes: number;
  /** Plain HTML fragment (no script, no style, no external resources). */
  html: string;
  /** Exactly three questions. */
  quiz: QuizQuestion[];
  /** Part of the longer course for people who fail repeatedly. */
  course?: boolean;
}

/** The placeholders Carewall fills in (GoPhish's names, plus Department). */
export const PLACEHOLDERS = ['FirstName', 'LastName', 'Email', 'Position', 'Department', 'From', 'URL', 'Tracker', 'TrackingURL', 'RId', 'BaseURL'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
