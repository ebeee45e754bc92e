/** The device agent (issue 25): what runs on the equipment's gateway; docs/updates.md "The device agent". */
export { newestForHardware, runAgent, type AgentOptions, type AgentResult, type Chooser } from './agent.js';
export { manifestSignatureHolds, parseManifest, signManifest, type DeviceManifest, type SignedManifest } from './manifest.js';
export { agentPaths, compareVersions, provisionDevice, type DeviceConfig, type Installed } from './state.js';
export { vendorKeyId, vendorPublicKey, vendorSignatureHolds } from './vendorSignature.js';
