/**
 * A person changing their own password: the current one proves it is them (a session left open on
 * a ward computer must not be enough to take the account over), a wrong one counts towards the
 * account's lockout as a failed sign-in does, and once changed every other session of the account
 * ends (whoever knew the old password is signed out), this one stays. Each attempt is recorded.
 */
import type { Database } from '../db/index.js';
import type { Who } from '../shared/index.js';
import * as accounts from './accounts.js';
import { AccountLockedError, IdentityError, InvalidInputError } from './errors.js';
import { recordFailure, type LockoutPolicy } from './lockout.js';
import { checkPasswordPolicy, hashPassword, verifyPassword } from './passwords.js';
import { hashToken } from './sessions.js';
import type { IdentityEvent } from './types.js';

export class WrongCurrentPasswordError extends IdentityError {
  readonly kind = 'forbidden';
  constructor() {
    super('the current password is not right');
  }
}

export interface PasswordChangeParts {
  db: Database;
  lockout: LockoutPolicy;
  emit(e: IdentityEvent): Promise<void>;
}

export async function changeOwnPassword(parts: PasswordChangeParts, who: Who, sessionToken: string, current: unknown, next: unknown): Promise<void> {
  if (who.client || who.system) throw new InvalidInputError('only a person signed in changes their own password');
  const account = await accounts.findForLogin(parts.db, who.username);
  if (!account || account.id !== who.accountId || account.inactive) throw new InvalidInputError('no active account to change');
  if (account.lockedForSeconds > 0) throw new AccountLockedError(account.lockedForSeconds);
  const named = { id: account.id, username: account.username };
  const password = checkPasswordPolicy(next);
  if (typeof current !== 'string' || !(await verifyPassword(account.passwordHash, current))) {
    await recordFailure(parts.db, account.id, parts.lockout);
    await parts.emit({ action: 'user.password', outcome: 'denied', actor: who, account: named, reason: 'wrong current password' });
    throw new WrongCurrentPasswordError();
  }
  if (current === password) throw new InvalidInputError('the new password must differ from the current one');
  const hash = await hashPassword(password);
  await parts.db.transaction(async (tx) => {
    // Conditional on the hash just checked: a change made meanwhile elsewhere is not overwritten.
    const changed = await tx.query('update identity_account set password_hash = $3 where id = $1 and password_hash = $2 returning id', [
      account.id,
      account.passwordHash,
      hash,
    ]);
    if (changed.rows.length !== 1) throw new InvalidInputError('the password was changed meanwhile; sign in again');
    await tx.query('update identity_session set revoked_at = now() where account_id = $1 and revoked_at is null and token_hash <> $2', [
      account.id,
      hashToken(sessionToken),
    ]);
    await parts.emit({ action: 'user.password', outcome: 'success', actor: who, account: named, tx });
  });
}
