/** Equipment releases: device classes, engineers' keys, vendor keys and the release steps (http/releaseRoutes). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Time } from './shapes.js';

export const DeviceClassBody = Type.Object({ name: Type.String({ maxLength: 64 }), lifeCritical: Type.Boolean() }, { additionalProperties: false });
export type DeviceClassBody = Static<typeof DeviceClassBody>;

export const DeviceClassView = Type.Object({
  name: Type.String(),
  lifeCritical: Type.Boolean(),
  engineers: Type.Array(Type.String()),
  delegatedKeys: Type.Array(Type.String()),
  threshold: Type.Integer(),
});
export const DeviceClassList = Type.Array(DeviceClassView);
export type DeviceClassList = Static<typeof DeviceClassList>;

export const EngineerAssignBody = Type.Object({ username: Type.String({ maxLength: 128 }) }, { additionalProperties: false });
export type EngineerAssignBody = Static<typeof EngineerAssignBody>;

export const DelegationProposal = Type.Object({ id: Type.String(), unsigned: Type.String(), engineers: Type.Array(Type.String()) });
export type DelegationProposal = Static<typeof DelegationProposal>;

/** The `.pub` file `carewall updates keygen` writes. */
export const EngineerKeyBody = Type.Object(
  {
    keyid: Type.Optional(Type.String()),
    keytype: Type.String(),
    scheme: Type.String(),
    keyval: Type.Object({ public: Type.String() }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type EngineerKeyBody = Static<typeof EngineerKeyBody>;
export const KeyRegistered = Type.Object({ keyid: Type.String() });
export type KeyRegistered = Static<typeof KeyRegistered>;

export const VendorKeyBody = Type.Object(
  { vendor: Type.String({ maxLength: 100 }), publicKeyPem: Type.String({ maxLength: 8192 }) },
  { additionalProperties: false },
);
export type VendorKeyBody = Static<typeof VendorKeyBody>;
export const VendorKeyList = Type.Array(
  Type.Object({ keyid: Type.String(), vendor: Type.String(), addedBy: Type.String(), addedAt: Time, publicPem: Type.String() }),
);
export type VendorKeyList = Static<typeof VendorKeyList>;

/** The signature file `carewall updates sign` writes. */
export const SignatureBody = Type.Object(
  { pending: Type.String(), role: Type.String(), version: Type.Integer(), keyid: Type.String(), sig: Type.String() },
  { additionalProperties: false },
);
export type SignatureBody = Static<typeof SignatureBody>;
export const SignatureAdded = Type.Object({ role: Type.String(), version: Type.Integer(), signedBy: Type.Array(Type.String()), published: Type.Boolean() });
export type SignatureAdded = Static<typeof SignatureAdded>;

export const ReleaseBody = Type.Object(
  {
    deviceClass: Type.String({ maxLength: 64 }),
    name: Type.String({ maxLength: 128 }),
    version: Type.String({ minLength: 1, maxLength: 64 }),
    hardwareIds: Type.Array(Type.String({ maxLength: 128 }), { minItems: 1, maxItems: 64 }),
    releaseCounter: Type.Integer({ minimum: 1 }),
    minUpgradeFrom: Type.String({ minLength: 1, maxLength: 64 }),
    vendorKeyId: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    vendorSignature: Type.String({ maxLength: 2048 }),
  },
  { additionalProperties: false },
);
export type ReleaseBody = Static<typeof ReleaseBody>;

export const Release = Type.Object({
  id: Type.String(),
  deviceClass: Type.String(),
  name: Type.String(),
  path: Type.String(),
  version: Type.String(),
  hardwareIds: Type.Array(Type.String()),
  releaseCounter: Type.Integer(),
  minUpgradeFrom: Type.String(),
  vendor: Type.String(),
  state: OneOf(['awaiting-image', 'quarantined', 'awaiting-approval', 'published', 'rejected', 'withdrawn']),
  sha256: Nullable(Type.String()),
  length: Nullable(Type.Integer()),
  sbomComponents: Nullable(Type.Integer()),
  advisories: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), severity: Type.Optional(Type.String()) })),
  createdBy: Type.String(),
  createdAt: Time,
  labSignoff: Nullable(Type.Object({ by: Type.String(), at: Time, note: Type.String() })),
  approvals: Nullable(Type.Object({ signedBy: Type.Array(Type.String()), needed: Type.Integer() })),
  closedReason: Nullable(Type.String()),
});
export type Release = Static<typeof Release>;
export const ReleaseList = Type.Array(Release);
export type ReleaseList = Static<typeof ReleaseList>;

export const LabSignoffBody = Type.Object(
  { passed: Type.Boolean(), note: Type.String({ maxLength: 2000 }), acceptAdvisories: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type LabSignoffBody = Static<typeof LabSignoffBody>;

export const WithdrawBody = Type.Object({ reason: Type.String({ maxLength: 2000 }) }, { additionalProperties: false });
export type WithdrawBody = Static<typeof WithdrawBody>;

export const ReleaseIdParams = Type.Object({ id: Type.String() });
export type ReleaseIdParams = Static<typeof ReleaseIdParams>;
export const ClassParams = Type.Object({ class: Type.String() });
export type ClassParams = Static<typeof ClassParams>;
export const ClassEngineerParams = Type.Object({ class: Type.String(), username: Type.String() });
export type ClassEngineerParams = Static<typeof ClassEngineerParams>;
