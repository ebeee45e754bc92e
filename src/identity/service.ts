/**
 * IdentityService: accounts, login, sessions. Stateless between calls — everything that decides
 * access is read from and written to the database in single statements — so any number of processes
 * can serve one database and agree on lock-outs, used TOTP steps and revoked sessions.
 */
import crypto from 'node:crypto';
import { authorize } from '../access/index.js';
import { SYSTEM, type RequestDetails, type Role, type Who } from '../shared/index.js';
import type { Settings } from '../config.js';
import type { Database, Queryable } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import * as accounts from './accounts.js';
import * as directory from './directory.js';
import type { PractitionerName, StaffMember } from './directory.js';
import type { AccountSummary, LoginRow } from './accounts.js';
import { activeHolder, decideBinding, everBound, lockPractitioner } from './binding.js';
import { AccountLockedError, BindingConflictError, DuplicateUsernameError, InvalidCredentialsError, UnknownAccountError } from './errors.js';
import { checkPractitioner, checkRoles, checkValidUntil, isWellFormedUsername, normaliseUsername } from './input.js';
import { recordFailure, type LockoutPolicy } from './lockout.js';
import { changeOwnPassword } from './passwordChange.js';
import { lockedForSeconds, purgeQuietThrottles, recordAddressFailure, recordUnknownNameFailure, throttleKey, type AddressPolicy } from './throttle.js';
import { checkPasswordPolicy, hashPassword, needsRehash, PASSWORD_MAX, verifyAgainstDummy, verifyPassword } from './passwords.js';
import * as sessions from './sessions.js';
import { SessionCache } from './sessionCache.js';
import type { Acting, CreateAccountInput, CreatedAccount, IdentityEvent, LoginInput, Session } from './types.js';
import type { SessionTiming } from './sessions.js';
import { matchTotp, newTotpSecret, openTotpSecret, rolesRequireTotp, sealTotpSecret, totpUri } from './totp.js';

export class IdentityService {
  private readonly listeners: Array<(e: IdentityEvent) => Promise<void>> = [];
  /**
   * The clock TOTP codes are matched by (the rest of sign-in time is the database's now()). Tests
   * hold it at a moment, as with updates.clock, so "the previous step" cannot become two steps old
   * between computing a code and its check.
   */
  clock: { now(): number } = Date;
  /** Callers behind tokens for up to a second (sessionCache.ts); nothing kept with a replica. */
  readonly sessionCache: SessionCache;

  constructor(
    private readonly db: Database,
    private readonly keyring: Keyring,
    private readonly settings: Settings,
    /** Tells privacy officers (the access module's notifications, wired in runtime.ts); never names a patient. */
    private readonly notify: (kind: string, ref: string, message: string) => Promise<void> = async () => undefined,
  ) {
    this.sessionCache = new SessionCache(!db.hasReplica);
  }

  /** Listeners are awaited: when one fails (the audit log is down) the change does not happen. */
  onEvent(listener: (e: IdentityEvent) => Promise<void>): void {
    this.listeners.push(listener);
  }

  /** A transaction that may end or change live sessions: the session cache drops what it holds when it ends. */
  private changeSessions<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.sessionCache.changed(() => this.db.transaction(fn));
  }

  private async emit(e: IdentityEvent): Promise<void> {
    for (const l of this.listeners) await l(e);
  }

  async createAccount(input: CreateAccountInput, opts: Acting = {}): Promise<CreatedAccount> {
    authorize(opts.who ?? SYSTEM, 'user.create');
    const username = normaliseUsername(input.username);
    const password = checkPasswordPolicy(input.password);
    const roles = checkRoles(input.roles);
    const practitioner = checkPractitioner(input.practitioner);
    const validUntil = checkValidUntil(input.validUntil);
    const totpRequired = rolesRequireTotp(roles) || input.requireTotp === true;
    const id = crypto.randomUUID();
    const secret = totpRequired ? newTotpSecret() : undefined;
    const passwordHash = await hashPassword(password);
    const requester = (opts.who ?? SYSTEM).accountId;
    const pending = await this.db.transaction(async (tx) => {
      // A practitioner bound before is only requested (binding.ts), decided under its lock.
      if (practitioner) await lockPractitioner(tx, practitioner);
      const requested = practitioner !== undefined && (await everBound(tx, practitioner));
      const inserted = await accounts.insertAccount(tx, {
        id,
        username,
        passwordHash,
        roles,
        practitioner: requested ? undefined : practitioner,
        pendingPractitioner: requested ? { practitioner, requestedBy: requester } : undefined,
        totpSecretSealed: secret && sealTotpSecret(this.keyring, secret, id),
        totpRequired,
        validUntil,
      });
      if (!inserted) throw new DuplicateUsernameError();
      await this.emit({
        action: 'user.create',
        outcome: 'success',
        actor: opts.who,
        account: { id, username, roles, practitioner: requested ? undefined : practitioner },
        tx,
      });
      if (requested) {
        const reason = 'the practitioner is or was bound to another account: a second person must approve';
        await this.emit({
          action: 'user.practitioner-request',
          outcome: 'success',
          actor: opts.who,
          account: { id, username, roles, practitioner },
          reason,
          tx,
        });
      }
      return requested ? practitioner : undefined;
    });
    if (pending) {
      const by = opts.who?.username ?? 'the command line';
      await this.notify(
        'practitioner-binding',
        id,
        `account ${username} asks to act as ${pending} (requested by ${by}); another administrator or a privacy officer must approve or reject it`,
      );
    }
    return {
      id,
      username,
      roles,
      practitioner: pending ? undefined : practitioner,
      ...(pending ? { pendingPractitioner: pending } : {}),
      validUntil: validUntil?.toISOString(),
      totpRequired,
      totpUri: secret && totpUri(secret, username),
    };
  }

  /**
   * Gives the account a new TOTP secret (replacing any earlier one, e.g. after a lost phone) and
   * requires it from the next login. Account administration, hence the 'user.create' permission.
   */
  async enrollTotp(accountId: string, opts: Acting = {}): Promise<string> {
    authorize(opts.who ?? SYSTEM, 'user.create');
    const secret = newTotpSecret();
    const username = await this.changeSessions(async (tx) => {
      const name = await accounts.setTotpSecret(tx, accountId, sealTotpSecret(this.keyring, secret, accountId));
      if (name === undefined) throw new UnknownAccountError();
      // A reset usually follows a lost or stolen phone: whoever holds a session opened with the old
      // factor must sign in again with the new one.
      const ended = await sessions.revokeAccountSessions(tx, accountId);
      await this.emit({
        action: 'user.second-factor',
        outcome: 'success',
        actor: opts.who,
        account: { id: accountId, username: name },
        reason: `second factor enrolled; ${ended} session(s) ended`,
        tx,
      });
      return name;
    });
    return totpUri(secret, username);
  }

  /**
   * Checks the credentials and opens a session. Every refusal except a lock-out is the same
   * InvalidCredentialsError, and each counts towards the lock-out.
   */
  /** `request`: the HTTP request the sign-in came through (its address also counts towards the address's lock-out). */
  async login(input: LoginInput, request: RequestDetails = {}): Promise<Session> {
    const { username, password, otp } = input;
    const refused = async (reason: string, account?: LoginRow): Promise<void> => {
      const named = account && { id: account.id, username: account.username, roles: [...account.roles] };
      await this.emit({
        action: 'login',
        outcome: 'denied',
        actor: named && { accountId: named.id, username: named.username, roles: account.roles },
        account: named,
        reason,
        request,
      });
    };
    const address = request.ip ? throttleKey(this.keyring.generalKey(), 'address', request.ip) : undefined;
    // An address that failed too often is refused before anything else is looked at (spraying).
    const addressLock = address ? await lockedForSeconds(this.db, address) : 0;
    if (addressLock > 0) {
      await refused('too many failed sign-ins from this address');
      throw new AccountLockedError(addressLock);
    }
    const failed = async (recordOwn: () => Promise<unknown>): Promise<never> => {
      await recordOwn();
      if (address) await recordAddressFailure(this.db, address, this.addressPolicy());
      throw new InvalidCredentialsError();
    };
    if (typeof password !== 'string' || password.length > PASSWORD_MAX || !isWellFormedUsername(username)) {
      if (typeof password === 'string') await verifyAgainstDummy(password);
      await refused('malformed credentials');
      return failed(async () => undefined);
    }
    const account = await accounts.findForLogin(this.db, username.toLowerCase());
    if (!account) {
      // Locked out and counted as an account would be: a 429 must not tell real names from unknown ones.
      const nameKey = throttleKey(this.keyring.generalKey(), 'name', username.toLowerCase());
      const locked = await lockedForSeconds(this.db, nameKey);
      if (locked > 0) {
        await refused('account locked');
        throw new AccountLockedError(locked);
      }
      await verifyAgainstDummy(password);
      await refused('no such account');
      return failed(() => recordUnknownNameFailure(this.db, nameKey, this.lockoutPolicy()));
    }
    // Checked before the password so that a locked account gives a guesser no further answers.
    if (account.lockedForSeconds > 0) {
      await refused('account locked', account);
      throw new AccountLockedError(account.lockedForSeconds);
    }

    let ok = (await verifyPassword(account.passwordHash, password)) && !account.inactive;
    let step: number | null = null;
    let why = account.inactive ? 'account disabled or expired' : 'wrong password';
    if (ok && this.needsTotp(account)) {
      step = this.matchOtp(account, otp);
      ok = step !== null;
      why = 'wrong or reused second-factor code';
    }
    if (!ok) {
      await refused(why, account);
      return failed(() => recordFailure(this.db, account.id, this.lockoutPolicy()));
    }

    const session = await this.db.transaction(async (tx) => {
      // Re-checks lock, activity and TOTP replay at this instant; another process may have moved first.
      if (!(await accounts.recordSuccess(tx, account.id, step))) return undefined;
      const created = await sessions.createSession(tx, account.id, this.timing(), request);
      const named = { id: account.id, username: account.username, roles: [...account.roles] };
      await this.emit({
        action: 'login',
        outcome: 'success',
        actor: { accountId: named.id, username: named.username, roles: account.roles },
        account: named,
        request,
        tx,
      });
      return created;
    });
    if (!session) {
      await refused('refused at the last moment (locked, disabled or code reused)', account);
      return failed(() => recordFailure(this.db, account.id, this.lockoutPolicy()));
    }
    await this.afterLogin(account, password);
    return session;
  }

  /** The caller's own password changed, proved by the current one; their other sessions end (passwordChange.ts). */
  changeOwnPassword(who: Who, sessionToken: string, current: unknown, next: unknown): Promise<void> {
    return this.sessionCache.changed(() =>
      changeOwnPassword({ db: this.db, lockout: this.lockoutPolicy(), emit: (e) => this.emit(e) }, who, sessionToken, current, next),
    );
  }

  /** The caller behind a bearer token, or null when it opens no live session of an active account. */
  authenticate(token: string): Promise<Who | null> {
    if (!sessions.isWellFormedToken(token)) return Promise.resolve(null);
    return this.sessionCache.who(sessions.hashToken(token).toString('hex'), () => sessions.sessionWho(this.db, token, this.timing()));
  }

  /**
   * After a caller's write was committed, and before it is answered: the primary's WAL position as
   * theirs, so that none of their later reads, in any process, goes to a replica that has not
   * replayed it (docs/scale-out.md). Nothing to note without a replica. Never moves backwards.
   */
  async noteWrite(who: Who): Promise<void> {
    const position = await this.db.writePosition();
    if (position) await sessions.noteWritePosition(this.db, who.accountId, position);
  }

  /** Ends the session; false when the token named no live session. */
  async logout(token: string, who?: Who): Promise<boolean> {
    return this.changeSessions(async (tx) => {
      const ended = await sessions.revokeSession(tx, token);
      if (ended && who) await this.emit({ action: 'logout', outcome: 'success', actor: who, account: { id: who.accountId, username: who.username }, tx });
      return ended;
    });
  }

  /** Disables the account and ends all its sessions in the same transaction. */
  async disableAccount(username: string, opts: Acting = {}): Promise<{ id: string; revokedSessions: number }> {
    authorize(opts.who ?? SYSTEM, 'user.disable');
    if (!isWellFormedUsername(username)) throw new UnknownAccountError();
    return this.changeSessions(async (tx) => {
      const id = await accounts.disableByUsername(tx, username.toLowerCase());
      if (id === undefined) throw new UnknownAccountError();
      const revokedSessions = await sessions.revokeAccountSessions(tx, id);
      await this.emit({ action: 'user.disable', outcome: 'success', actor: opts.who, account: { id, username: username.toLowerCase() }, tx });
      return { id, revokedSessions };
    });
  }

  /** Whether a practitioner has accounts and every one of them is disabled (no assignment then). */
  onlyDisabledAccounts = (practitioner: string, q: Queryable = this.db) => accounts.onlyDisabled(q, practitioner);

  /** Enables a disabled account (recorded); refused while another active account acts as its practitioner. */
  async enableAccount(username: string, opts: Acting = {}): Promise<{ id: string }> {
    authorize(opts.who ?? SYSTEM, 'user.disable');
    if (!isWellFormedUsername(username)) throw new UnknownAccountError();
    const name = username.toLowerCase();
    return this.db.transaction(async (tx) => {
      const row = await accounts.lockForEnable(tx, name);
      if (!row) throw new UnknownAccountError();
      if (!row.disabled) throw new BindingConflictError('the account is not disabled');
      if (row.practitioner && (await activeHolder(tx, row.practitioner, row.id))) {
        throw new BindingConflictError('another active account acts as this practitioner: disable it first');
      }
      await accounts.enableById(tx, row.id);
      await this.emit({ action: 'user.enable', outcome: 'success', actor: opts.who, account: { id: row.id, username: name }, tx });
      return { id: row.id };
    });
  }

  /**
   * A second person approves (or rejects) an account's request to act as a practitioner bound
   * before (binding.ts): never the one who asked; an approval only while no other active account
   * holds that practitioner. Returns the account's binding after the decision.
   */
  async decideBinding(username: string, approve: boolean, opts: Acting = {}): Promise<{ username: string; practitioner: string | null }> {
    const who = opts.who ?? SYSTEM;
    authorize(who, 'user.approve-binding');
    if (!isWellFormedUsername(username)) throw new UnknownAccountError();
    return decideBinding(
      { changeSessions: (fn) => this.changeSessions(fn), emit: (e) => this.emit(e), notify: (kind, ref, message) => this.notify(kind, ref, message) },
      who,
      opts.who,
      username.toLowerCase(),
      approve,
    );
  }

  async listAccounts(opts: Acting = {}): Promise<AccountSummary[]> {
    authorize(opts.who ?? SYSTEM, 'user.list');
    return accounts.listAccounts(this.db);
  }

  /** Sessions in use since `since`: who signed in from where, and when (the posture's remote and shared sign-in checks). */
  async sessionsSince(since: Date, opts: Acting = {}): Promise<sessions.SessionSpan[]> {
    authorize(opts.who ?? SYSTEM, 'user.list');
    return sessions.sessionsSince(this.db, since);
  }

  /**
   * The account named `username` as the access rules see it, and whether it is active. For the
   * access explanation; the caller has already been authorized for it.
   */
  async describeAccount(username: string): Promise<{ who: Who; active: boolean } | undefined> {
    if (!isWellFormedUsername(username)) return undefined;
    const found = (await accounts.listAccounts(this.db)).find((a) => a.username === username.toLowerCase());
    if (!found) return undefined;
    const who: Who = { accountId: found.id, username: found.username, roles: found.roles };
    if (found.practitioner) who.practitioner = found.practitioner;
    return { who, active: directory.isActive(found) };
  }

  /**
   * The written name of a practitioner ('Practitioner/<id>'), from the records (wired in runtime.ts):
   * identity keeps accounts, the records keep people's names.
   */
  practitionerName: PractitionerName = () => Promise.resolve(undefined);

  /** The signed-in person's own name, as the console's header shows it (the user name when no practitioner is linked). */
  ownName(who: Who): Promise<string> {
    return directory.nameOf({ username: who.username, practitioner: who.practitioner }, this.practitionerName);
  }

  /** The active accounts that hold `role`, by name: who a privacy officer may hand a case to. The caller is already authorized. */
  activeAccountsWithRole(role: Role): Promise<Array<{ username: string; name: string }>> {
    return directory.activeWithRole(this.db, role, this.practitionerName);
  }

  /**
   * Every account by name, for those who investigate and explain accesses (a privacy officer typing
   * "parker" finds Dr Parker): who they are, their roles and whether they are active; no secret.
   */
  async staffDirectory(who: Who): Promise<StaffMember[]> {
    authorize(who, 'staff.directory');
    return directory.staffDirectory(this.db, this.practitionerName);
  }

  /** Deletes sessions that ended long ago, for all accounts (logins already do it per account). */
  purgeEndedSessions(): Promise<number> {
    return sessions.purgeEndedSessions(this.db);
  }

  private needsTotp(account: LoginRow): boolean {
    // The roles are checked too, so an account that gained such a role without enrolling cannot log in.
    return account.totpRequired || account.totpSecretSealed !== undefined || rolesRequireTotp(account.roles);
  }

  private matchOtp(account: LoginRow, otp: unknown): number | null {
    if (typeof otp !== 'string' || !account.totpSecretSealed) return null;
    const secret = openTotpSecret(this.keyring, account.totpSecretSealed, account.id);
    return matchTotp(secret, otp, this.clock.now());
  }

  /** Housekeeping that must not turn a successful login into an error: the session already exists. */
  private async afterLogin(account: LoginRow, password: string): Promise<void> {
    try {
      await sessions.purgeEndedSessions(this.db, account.id);
      await purgeQuietThrottles(this.db);
      if (needsRehash(account.passwordHash)) {
        await accounts.updatePasswordHash(this.db, account.id, account.passwordHash, await hashPassword(password));
      }
    } catch {
      /* retried at the next login */
    }
  }

  private timing(): SessionTiming {
    return { idleMinutes: this.settings.sessionIdleMinutes, maxHours: this.settings.sessionMaxHours };
  }

  private addressPolicy(): AddressPolicy {
    return { failures: Math.max(1, Math.floor(this.settings.loginAddressFailures)), windowMinutes: this.settings.loginAddressWindowMinutes };
  }

  private lockoutPolicy(): LockoutPolicy {
    // A threshold below 1 would lock on every failure, including the first typo.
    return { threshold: Math.max(1, Math.floor(this.settings.lockoutThreshold)), baseMinutes: this.settings.lockoutBaseMinutes };
  }
}
