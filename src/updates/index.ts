/** The TUF image repository for clinical equipment updates (issue 25): see docs/updates.md. */
export { UpdatesService, type Clock, type Proposal, type SignatureResult, type UpdatesStatus } from './service.js';
export { parsePublicKey, readPrivateKeyFile, writeKeyFiles, type PublicKeyFile } from './keys.js';
export { parseSignatureFile, signProposal, type SignatureFile } from './offline.js';
export { updatesMigrations } from './schema.js';
export { DeviceRegistry, ManifestRefused, type DeviceRefusal, type DeviceStatus } from './devices.js';
export { Engineers, ReleaseRefused, isEngineer, type AccountLookup, type DeviceClass } from './engineers.js';
export { ReleasePipeline, type AdvisoryCheck, type Candidate, type CandidateInput, type CandidateState, type OpenAdvisory } from './releases.js';
export { checkSbom, type SbomComponent } from './sbom.js';
// The director (src/director) keeps a second TUF repository with the same keys, files and ceremonies.
export { generateKey, signerFor, tufKey } from './keys.js';
export { pendingIdOf } from './offline.js';
export { SPEC_VERSION, expiresAfter, unsignedFile } from './proposals.js';
