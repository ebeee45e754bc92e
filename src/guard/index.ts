/** The ransomware guard on file shares (issue 8, point 4): see docs/guard.md. */
export { Guard, ALARM_AT, type Alarm, type GuardOptions, type Severity } from './guard.js';
export { copySnapshot, makeReadOnly, type ProtectiveSnapshot, type SnapshotRequest, type SnapshotResult } from './response.js';
export { makeShare, assertTestShare, SHARE_MARKER } from './share.js';
export { BEHAVIOURS, runBehaviour, type RunOptions, type RunResult } from './simulate/behaviours.js';
export { BENIGN, type Benign } from './simulate/benign.js';
