/** The demo clinic: synthetic patients, staff and care, seeded from a number. */
export { seedDemoClinic, DEFAULT_PATIENTS, DEFAULT_SEED, type SeedOptions, type SeedResult, type DemoLogin } from './seed.js';
export { setUpDemoBackups, type DemoBackups } from './backups.js';
