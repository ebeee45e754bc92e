/** The ransomware guard on file shares (issue 8, point 4): see docs/guard.md. */
export { Guard, type GuardOptions } from './guard.js';
export { DECOY_MOVE_MS } from './decoys.js';
export { ALARM_AT, readSavedModes, sideFiles, type Alarm, type Severity } from './incident.js';
export {
  copySnapshot,
  makeReadOnly,
  restoreWriteBits,
  type SavedMode,
  type ProtectiveSnapshot,
  type SnapshotRequest,
  type SnapshotResult,
} from './response.js';
export { makeShare, assertTestShare, SHARE_MARKER } from './share.js';
export { Rng } from './formats.js';
export { BEHAVIOURS, runBehaviour, type RunOptions, type RunResult } from './simulate/behaviours.js';
export { BENIGN, type Benign } from './simulate/benign.js';
export { GuardService, releaseShares, type GuardAlarmRow, type GuardStatus, type ProtectFiles } from './service.js';
export { guardSettings, type GuardSettings } from './settings.js';
export { guardMigrations } from './schema.js';
