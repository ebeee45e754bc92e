/** Security advisories for equipment (issue 25): CSAF 2.0 import, matching, VEX; docs/advisories.md. */
export { AdvisoryService, type DeviceAdvisory, type InventoryItem, type InventorySource } from './service.js';
export { advisoriesMigrations } from './schema.js';
export { ProductIndex, normaliseName, type Certainty, type Match, type MatchItem } from './match.js';
export { readAdvisory, validateCsaf, InvalidAdvisory, type Advisory, type Product, type VexStatus } from './csaf.js';
export { compareVersions, inRange } from './versions.js';
