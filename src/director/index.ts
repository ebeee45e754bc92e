/** The director (issue 25): which device installs which release, when; docs/director.md. */
export { DirectorService, type DirectorOptions, type WindowsOf } from './service.js';
export { DirectorRefused, type MayRelease, type RolloutView } from './rollouts.js';
export { directorMigrations } from './schema.js';
export { currentOrNextOccurrence, type Occurrence } from './window.js';
