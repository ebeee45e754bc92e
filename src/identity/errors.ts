/**
 * Typed failures of the identity capability. Messages are written here, never built from what the
 * caller sent, so a password or code typed into the wrong field is never echoed back or logged.
 */

export abstract class IdentityError extends Error {
  abstract readonly kind: 'invalid-credentials' | 'locked' | 'invalid-input' | 'duplicate' | 'not-found' | 'conflict' | 'forbidden';
}

/**
 * One message for unknown user, wrong password, wrong or missing code, disabled or expired account:
 * telling them apart would let a guesser learn which usernames exist and which half they got right.
 */
export class InvalidCredentialsError extends IdentityError {
  readonly kind = 'invalid-credentials';
  constructor() {
    super('invalid username, password or code');
  }
}

export class AccountLockedError extends IdentityError {
  readonly kind = 'locked';
  constructor(readonly retryAfterSeconds: number) {
    super('too many failed logins; try again later');
  }
}

export class InvalidInputError extends IdentityError {
  readonly kind = 'invalid-input';
}

export class DuplicateUsernameError extends IdentityError {
  readonly kind = 'duplicate';
  constructor() {
    super('an account with this username already exists');
  }
}

export class UnknownAccountError extends IdentityError {
  readonly kind = 'not-found';
  constructor() {
    super('no such account');
  }
}

/** A decision that cannot be taken in the account's present state (nothing pending, another holder). */
export class BindingConflictError extends IdentityError {
  readonly kind = 'conflict';
}

/** A second person's decision asked of the person who made the request. */
export class NotYoursToDecideError extends IdentityError {
  readonly kind = 'forbidden';
  constructor() {
    super('a second person must decide: not the one who asked');
  }
}
