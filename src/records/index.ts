export { FhirService, parseIfMatch } from './service.js';
export { recordMigrations } from './migrations.js';
export { processBundle } from './bundle.js';
export { capabilityStatement } from './capability.js';
export { FhirError, outcome } from './outcome.js';
export { validateBody } from './validate.js';
export { instantParam } from './search.js';
export { SUPPORTED_TYPES, isPatientData } from './resourceTypes.js';
export type { StoredVersion } from './store.js';
