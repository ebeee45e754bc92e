/** Signing in and out, the caller, and account administration (http/sessionRoutes, userRoutes, consoleRoutes). */
import { Type, type Static } from '@sinclair/typebox';

/** The password rules, for the console to state up front and check before sending (the server checks them too). */
export { PASSWORD_MAX, PASSWORD_MIN } from '../shared/index.js';
import { Nullable, Time } from './shapes.js';

/** POST /api/session. A code sent as a JSON number is accepted (the server restores its leading zeros). */
export const LoginBody = Type.Object({
  username: Type.String(),
  password: Type.String(),
  otp: Type.Optional(Nullable(Type.Union([Type.String(), Type.Integer({ minimum: 0 })]))),
});
export type LoginBody = Static<typeof LoginBody>;

export const SessionCreated = Type.Object({ token: Type.String(), expiresAt: Time });

/** POST /api/session/password: the caller's own password, proved by the current one. */
export const PasswordChangeBody = Type.Object({ currentPassword: Type.String(), newPassword: Type.String() });
export type PasswordChangeBody = Static<typeof PasswordChangeBody>;
export type SessionCreated = Static<typeof SessionCreated>;

/** GET /api/me */
export const Me = Type.Object({
  username: Type.String(),
  /** The person's name from their practitioner record; the user name when none is linked. */
  name: Type.String(),
  roles: Type.Array(Type.String()),
  practitioner: Nullable(Type.String()),
  idleMinutes: Type.Number(),
});
export type Me = Static<typeof Me>;

/** What an administrator sees of an account: no hash, no secret. */
export const Account = Type.Object({
  id: Type.String(),
  username: Type.String(),
  roles: Type.Array(Type.String()),
  practitioner: Type.Optional(Type.String()),
  /** Asked to act as a practitioner another account acted as: waits for a second person. */
  pendingPractitioner: Type.Optional(Type.String()),
  totpRequired: Type.Boolean(),
  disabled: Type.Boolean(),
  validUntil: Type.Optional(Time),
  lockedUntil: Type.Optional(Time),
  failedCount: Type.Integer(),
  lastLoginAt: Type.Optional(Time),
  createdAt: Time,
});
export type Account = Static<typeof Account>;

/** GET /api/users */
export const AccountList = Type.Object({ users: Type.Array(Account) });
export type AccountList = Static<typeof AccountList>;

/**
 * POST /api/users. Unknown fields are refused rather than ignored: a misspelt 'practioner' must not
 * silently create an account without its link.
 */
export const NewAccountBody = Type.Object(
  {
    username: Type.String(),
    password: Type.String(),
    roles: Type.Array(Type.String()),
    practitioner: Type.Optional(Nullable(Type.String())),
    validUntil: Type.Optional(Nullable(Type.String())),
    requireTotp: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type NewAccountBody = Static<typeof NewAccountBody>;

/** 201, or 202 when the practitioner waits for a second person's approval. The TOTP URI is shown once. */
export const AccountCreated = Type.Object({
  id: Type.String(),
  username: Type.String(),
  roles: Type.Array(Type.String()),
  practitioner: Nullable(Type.String()),
  pendingPractitioner: Type.Optional(Type.String()),
  totpUri: Type.Optional(Type.String()),
});
export type AccountCreated = Static<typeof AccountCreated>;

/** POST /api/users/:username/practitioner/approve */
export const BindingDecided = Type.Object({ username: Type.String(), practitioner: Nullable(Type.String()) });
export type BindingDecided = Static<typeof BindingDecided>;

/** POST /api/users/:username/second-factor */
export const SecondFactorReset = Type.Object({ username: Type.String(), totpUri: Type.String() });
export type SecondFactorReset = Static<typeof SecondFactorReset>;

/** Path parameters naming an account. */
export const UsernameParams = Type.Object({ username: Type.String() });
export type UsernameParams = Static<typeof UsernameParams>;

/** GET /api/staff: every account by name, for privacy officers, security and administrators (who is who). */
export const StaffDirectory = Type.Object({
  staff: Type.Array(
    Type.Object({
      accountId: Type.String(),
      username: Type.String(),
      name: Type.String(),
      roles: Type.Array(Type.String()),
      practitioner: Nullable(Type.String()),
      active: Type.Boolean(),
    }),
  ),
});
export type StaffDirectory = Static<typeof StaffDirectory>;
