export { accessMigrations } from './schema.js';
export { AccessPolicy, type AccessDecision, type AccessEvent, type AccessTarget, type Grounds, type Mode } from './policy.js';
export { AccessGrants, BREAK_GLASS_REASONS, REVIEW_DECISIONS } from './grants.js';
export { projectWrite } from './projection.js';
export { AccessDeniedError, authorize } from './authorize.js';
export type { AdminAction, FhirAction } from './authorize.js';
export type { GrantEvent } from './grants.js';
export { labelDigests } from './labels.js';
export { isAuditorClient, isSystemScope, scopeWithin } from './systemScopes.js';
