/** Staff awareness (issue 26): phishing simulations with training built in, the report button, triage of reported mail. */
export type { Difficulty, Tell, PhishTemplate, LandingPage, Lesson, QuizQuestion, Placeholder } from './library/types.js';
export { PLACEHOLDERS } from './library/types.js';

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
