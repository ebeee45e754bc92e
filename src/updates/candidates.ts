/**
 * A release on its way, as the pipeline (releases.ts) keeps it and as the console is shown it:
 * the shapes, and the stored row read back into words.
 */
import type { SbomComponent } from './sbom.js';
import { targetPath } from './proposals.js';

export type CandidateState = 'awaiting-image' | 'quarantined' | 'awaiting-approval' | 'published' | 'rejected' | 'withdrawn';

export interface CandidateInput {
  deviceClass: string;
  name: string;
  version: string;
  hardwareIds: string[];
  releaseCounter: number;
  minUpgradeFrom: string;
  vendorKeyId: string;
  /** The vendor's detached signature of the image (base64). */
  vendorSignature: string;
}

export interface Candidate {
  id: string;
  deviceClass: string;
  name: string;
  path: string;
  version: string;
  hardwareIds: string[];
  releaseCounter: number;
  minUpgradeFrom: string;
  vendor: string;
  state: CandidateState;
  sha256: string | null;
  length: number | null;
  sbomComponents: number | null;
  advisories: OpenAdvisory[];
  createdBy: string;
  createdAt: string;
  labSignoff: { by: string; at: string; note: string } | null;
  approvals: { signedBy: string[]; needed: number } | null;
  closedReason: string | null;
}

/** An advisory that the release's version or components are affected by (advisories capability). */
export interface OpenAdvisory {
  id: string;
  title: string;
  severity?: string;
}

/** Asks the advisories which open advisories hit this release; wired in runtime.ts, none by default. */
export type AdvisoryCheck = (release: { deviceClass: string; vendor: string; version: string; components: SbomComponent[] }) => Promise<OpenAdvisory[]>;

export interface CandidateRow {
  id: string;
  class: string;
  name: string;
  image_version: string;
  hardware_ids: string[];
  release_counter: number;
  min_upgrade_from: string;
  vendor: string;
  vendor_keyid: string;
  vendor_signature: string;
  state: CandidateState;
  sha256: string | null;
  length: string | null;
  sbom: { components?: unknown[] } | null;
  advisories: OpenAdvisory[] | null;
  created_by: string;
  created_at: Date;
  lab_by: string | null;
  lab_at: Date | null;
  lab_note: string | null;
  proposal_id: string | null;
  closed_reason: string | null;
}

/** The stored row in the shape the API answers with. */
export function toCandidate(c: CandidateRow, approvals: Candidate['approvals']): Candidate {
  return {
    id: c.id,
    deviceClass: c.class,
    name: c.name,
    path: targetPath(c.class, c.name),
    version: c.image_version,
    hardwareIds: c.hardware_ids,
    releaseCounter: c.release_counter,
    minUpgradeFrom: c.min_upgrade_from,
    vendor: c.vendor,
    state: c.state,
    sha256: c.sha256,
    length: c.length === null ? null : Number(c.length),
    sbomComponents: c.sbom ? (c.sbom.components?.length ?? 0) : null,
    advisories: c.advisories ?? [],
    createdBy: c.created_by,
    createdAt: new Date(c.created_at).toISOString(),
    labSignoff: c.lab_by && c.lab_at ? { by: c.lab_by, at: new Date(c.lab_at).toISOString(), note: c.lab_note ?? '' } : null,
    approvals,
    closedReason: c.closed_reason,
  };
}
