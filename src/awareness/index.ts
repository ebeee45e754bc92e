/** Staff awareness (issue 26): phishing simulations with training built in, the report button, triage of reported mail. */
export type { Difficulty, Tell, PhishTemplate, LandingPage, Lesson, QuizQuestion, Placeholder } from './library/types.js';
export { PLACEHOLDERS } from './library/types.js';
