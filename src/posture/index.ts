/** Posture (issue 27): where the clinic stands against HHS 405(d) HICP and the HPH goals, from Carewall's own evidence (docs/posture.md). */
export type * from './types.js';
export { PostureService, type PostureDeps, type AttestationInput } from './service.js';
export { postureMigrations } from './schema.js';
export { CHECKS, runChecks, type CheckResult, type PostureFacts, type AccountFact } from './checks.js';
export { score, nextSteps, combine, type Attestation } from './scoring.js';
export { readReleaseFeed, signInFacts, type FactSources, type SessionSpan } from './gather.js';
export { postureSettings, insideNetworks, DEFAULT_CLINIC_NETWORKS, type PostureSettings } from './settings.js';
export { ITEM_CHECKS } from './mapping.js';
export { FRAMEWORKS_DIR, FrameworkError, frameworkById, loadFrameworks, parseFramework, validateFramework } from './frameworks.js';
export { renderBoardReport, scorecardJson, type ScorecardExport, type ScorecardHistoryPoint } from './report.js';
