export { FhirService, parseIfMatch } from './service.js';
export { recordMigrations } from './migrations.js';
export { processBundle } from './bundle.js';
export { capabilityStatement } from './capability.js';
export { validateBody } from './validate.js';
export { instantParam } from './search.js';
export type { StoredVersion } from './store.js';
export { compartmentQuery, conditionQuery, searchQuery } from './search.js';
export { MAX_IDENTIFIED, type Identified } from './identify.js';
