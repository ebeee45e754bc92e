/** The identity capability: accounts, passwords, second factor, sessions. */
export { IdentityService } from './service.js';
export type { Acting, CreateAccountInput, CreatedAccount, IdentityEvent, LoginInput, Session } from './types.js';
export type { AccountSummary } from './accounts.js';
export { hashToken, isWellFormedToken, newToken } from './sessions.js';
export { identityMigrations } from './schema.js';
export {
  AccountLockedError,
  BindingConflictError,
  DuplicateUsernameError,
  IdentityError,
  InvalidCredentialsError,
  InvalidInputError,
  NotYoursToDecideError,
  UnknownAccountError,
} from './errors.js';
export { PASSWORD_MAX, PASSWORD_MIN, checkPasswordPolicy } from './passwords.js';
export { normaliseUsername } from './input.js';
export { ROLES_REQUIRING_TOTP, TOTP_ISSUER } from './totp.js';
