/** The clients capability: system clients (SMART Backend Services) and their tokens. */
export {
  ClientService,
  ClientAuthError,
  ClientInputError,
  ASSERTION_TYPE,
  TOKEN_SECONDS,
  type ClientEvent,
  type ClientSummary,
  type TokenRequest,
} from './service.js';
export { clientMigrations } from './schema.js';
