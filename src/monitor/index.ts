/** Insider-misuse monitoring (docs/monitor.md): the live monitor, the offline scan and the simulator. */
export { MonitorService, monitorMigrations } from './live/index.js';
export { scanToFile } from './scan/index.js';
export { simulate } from './simulate/index.js';
