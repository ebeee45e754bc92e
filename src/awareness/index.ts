/** Staff awareness (issue 26): phishing simulations with training built in, the report button, triage of reported mail (docs/awareness.md). */
export type { Difficulty, Tell, PhishTemplate, LandingPage, Lesson, QuizQuestion, Placeholder } from './library/types.js';
export { PLACEHOLDERS } from './library/types.js';
export type { PlaceholderValues, RenderedMessage } from './library/render.js';
export { renderTemplate, renderMessage, placeholdersIn, validateTemplate, trackerPixel, SAMPLE_VALUES, sampleValuesFor } from './library/render.js';
export { prepareLandingPage } from './library/landing.js';
export { validateLesson } from './library/lesson-check.js';
export type { GophishTemplateOptions } from './library/gophish.js';
export { importGophishTemplate, importGophishPage, GophishImportError } from './library/gophish.js';
export {
  SHIPPED_TEMPLATES,
  SHIPPED_PAGES,
  SHIPPED_LESSONS,
  COURSE_LESSONS,
  GENERAL_LESSON_ID,
  GENERAL_PAGE_ID,
  templateById,
  pageById,
  lessonById,
  shippedIds,
} from './library/catalog.js';
export { triageMessage } from './triage/triage.js';
export { NotAMailMessage } from './triage/types.js';
export type {
  TriageOptions,
  TriageResult,
  TriageSummary,
  Reason as TriageReason,
  Verdict as TriageVerdict,
  StaffMember,
  DnsResolver,
  AuthenticationSummary,
  AttachmentSummary,
} from './triage/types.js';
export { REASON_CATALOGUE as TRIAGE_REASONS, PHISHING_AT as TRIAGE_PHISHING_AT, SUSPICIOUS_AT as TRIAGE_SUSPICIOUS_AT } from './triage/reasons.js';
export { AwarenessService, type AwarenessDeps } from './service.js';
export { awarenessMigrations } from './schema.js';
export type { StaffEntry } from './people.js';
export type { Page } from './pages.js';
export type { MailTransport, OutgoingMessage, SendOutcome } from './sending.js';
export { judgeClicks, machineAgent, scannerRanges } from './automatic.js';
export { sendingTimes, businessIntervals } from './schedule.js';
export { staffDirectory, type DirectorySources } from './directory.js';
export { awarenessSettings, type AwarenessSettings } from './settings.js';
