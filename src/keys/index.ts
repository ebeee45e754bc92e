/** The public surface of keys: other folders import only from here. */
export { words } from './blindIndex.js';
export type { BlindIndex } from './blindIndex.js';
export { DecryptionError, open, seal } from './envelope.js';
export { GENERAL_SCOPE, keyMigrations, patientScope } from './keyring.js';
export { Keyring } from './keyring.js';
export { MASTER_KEY_FILE, createKeyFile, keyFilePath, loadMasterKeys } from './masterKeys.js';
export { rotateMasterKey } from './rotate.js';
