/** The append-only backup repository server, for a second machine (docs/backup.md). */
export { buildVault } from './server.js';
export { addCredential } from './credentials.js';
