/**
 * System clients (SMART Backend Services): integrations such as a lab system, an admission feed or
 * a reporting tool register a JWK Set of public keys and the `system/` scopes they need; they
 * authenticate with a JWT assertion signed by one of those keys (`private_key_jwt`, RFC 7523) and
 * receive a short-lived bearer token carrying the scopes granted. The access rules bind them to
 * those scopes at the same point as people (access/systemScopes.ts). JWT and JWK handling is
 * jose's, a well-kept implementation of the JOSE standards.
 */
import crypto from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Database, Queryable } from '../db/index.js';
import type { RequestDetails, Who } from '../shared/index.js';
import { isSystemScope, scopeWithin } from '../access/index.js';
import { hashToken, isWellFormedToken, newToken } from '../identity/index.js';

/** Access tokens live five minutes (SMART Backend Services' recommendation). */
export const TOKEN_SECONDS = 300;
/** An assertion may not be valid for longer than this from now (SMART: at most five minutes). */
const MAX_ASSERTION_SECONDS = 300;
const ALGORITHMS = ['RS384', 'ES384', 'RS256', 'ES256', 'PS384', 'EdDSA'];
export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;

export interface ClientSummary {
  id: string;
  name: string;
  scopes: string[];
  disabled: boolean;
  createdAt: string;
  keys: number;
}

/** An OAuth 2.0 token endpoint error (RFC 6749 section 5.2). */
export class ClientAuthError extends Error {
  constructor(
    readonly code: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'invalid_scope' | 'unsupported_grant_type',
    message: string,
  ) {
    super(message);
  }
}

export class ClientInputError extends Error {}

export interface ClientEvent {
  action: 'client.add' | 'client.disable' | 'client.token';
  outcome: 'success' | 'denied';
  client?: { id: string; name: string };
  scopes?: string[];
  reason?: string;
  /** The HTTP request a token was asked by (the audit log keeps its address and id). */
  request?: RequestDetails;
  tx?: Queryable;
}

export interface TokenRequest {
  grant_type?: string;
  scope?: string;
  client_assertion_type?: string;
  client_assertion?: string;
}

export class ClientService {
  private readonly listeners: Array<(e: ClientEvent) => Promise<void>> = [];

  constructor(private readonly db: Database) {}

  onEvent(listener: (e: ClientEvent) => Promise<void>): void {
    this.listeners.push(listener);
  }

  private async emit(e: ClientEvent): Promise<void> {
    for (const l of this.listeners) await l(e);
  }

  async register(input: { name: string; jwks: unknown; scopes: string[] }): Promise<ClientSummary> {
    if (!NAME.test(input.name)) throw new ClientInputError('the name must be 1-64 letters, digits, spaces, . _ -');
    const jwks = publicKeySet(input.jwks);
    const scopes = [...new Set(input.scopes)];
    if (scopes.length === 0) throw new ClientInputError('at least one scope is needed, e.g. system/Observation.read');
    const bad = scopes.find((s) => !isSystemScope(s));
    if (bad) throw new ClientInputError(`not a system scope this server knows: ${bad} (system/<Type>.read, .write, .*, or .cruds letters)`);
    const id = crypto.randomUUID();
    return this.db.transaction(async (tx) => {
      const taken = await tx.query('select 1 from clients_registration where name = $1', [input.name]);
      if (taken.rows.length > 0) throw new ClientInputError(`a client named ${input.name} is already registered`);
      await tx.query('insert into clients_registration (id, name, jwks, scopes) values ($1, $2, $3::jsonb, $4)', [
        id,
        input.name,
        JSON.stringify(jwks),
        scopes,
      ]);
      await this.emit({ action: 'client.add', outcome: 'success', client: { id, name: input.name }, scopes, tx });
      const r = await tx.query<ClientRow>('select * from clients_registration where id = $1', [id]);
      return summary(r.rows[0]);
    });
  }

  async list(): Promise<ClientSummary[]> {
    const r = await this.db.query<ClientRow>('select * from clients_registration order by name');
    return r.rows.map(summary);
  }

  /** Disables a client by id or name and ends its tokens at once. */
  async disable(idOrName: string): Promise<ClientSummary> {
    return this.db.transaction(async (tx) => {
      const r = await tx.query<ClientRow>(
        'update clients_registration set disabled = true, disabled_at = coalesce(disabled_at, now()) where id = $1 or name = $1 returning *',
        [idOrName],
      );
      if (r.rows.length === 0) throw new ClientInputError(`no client ${idOrName}`);
      await tx.query('delete from clients_token where client_id = $1', [r.rows[0].id]);
      await this.emit({ action: 'client.disable', outcome: 'success', client: { id: r.rows[0].id, name: r.rows[0].name }, tx });
      return summary(r.rows[0]);
    });
  }

  /**
   * The token endpoint: a client credentials grant authenticated by a signed JWT assertion. The
   * assertion must name the client as issuer and subject and this endpoint as audience, expire
   * within five minutes, carry a jti never used before, and verify against a registered key.
   * `request`: the HTTP request it came by, for the audit log.
   */
  async exchange(
    req: TokenRequest,
    tokenUrl: string,
    request?: RequestDetails,
  ): Promise<{ access_token: string; token_type: 'bearer'; expires_in: number; scope: string }> {
    let client: ClientRow | undefined;
    try {
      if (req.grant_type !== 'client_credentials') throw new ClientAuthError('unsupported_grant_type', 'grant_type must be client_credentials');
      if (req.client_assertion_type !== ASSERTION_TYPE) throw new ClientAuthError('invalid_request', `client_assertion_type must be ${ASSERTION_TYPE}`);
      if (typeof req.client_assertion !== 'string' || req.client_assertion.length > 16_384)
        throw new ClientAuthError('invalid_request', 'client_assertion is missing');
      let claimed: string | undefined;
      try {
        claimed = decodeJwt(req.client_assertion).iss;
        // Keys are the ones registered with the client, never fetched from where an assertion points.
        const header = decodeProtectedHeader(req.client_assertion);
        if (header.jku !== undefined || header.x5u !== undefined || header.jwk !== undefined)
          throw new ClientAuthError('invalid_client', 'the assertion may not name its own keys (jku, x5u, jwk): its key is registered with the client');
      } catch (err) {
        if (err instanceof ClientAuthError) throw err;
        throw new ClientAuthError('invalid_client', 'the assertion is not a JWT');
      }
      if (typeof claimed !== 'string') throw new ClientAuthError('invalid_client', 'the assertion names no issuer');
      client = (await this.db.query<ClientRow>('select * from clients_registration where id = $1', [claimed])).rows[0];
      if (!client || client.disabled) throw new ClientAuthError('invalid_client', 'unknown or disabled client');
      let payload;
      try {
        ({ payload } = await jwtVerify(req.client_assertion, createLocalJWKSet(client.jwks as JSONWebKeySet), {
          issuer: client.id,
          subject: client.id,
          audience: tokenUrl,
          algorithms: ALGORITHMS,
          requiredClaims: ['exp', 'jti'],
        }));
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw new ClientAuthError('invalid_client', 'the assertion has expired');
        if (err instanceof joseErrors.JWTClaimValidationFailed)
          throw new ClientAuthError('invalid_client', `the assertion's ${err.claim} claim is not as required`);
        throw new ClientAuthError('invalid_client', 'the assertion is not signed by a key registered for this client');
      }
      const exp = payload.exp!;
      if (exp - Date.now() / 1000 > MAX_ASSERTION_SECONDS + 5)
        throw new ClientAuthError('invalid_client', 'the assertion may be valid for at most five minutes');
      const scopes = grantedScopes(req.scope, client.scopes);
      const token = newToken();
      await this.db.transaction(async (tx) => {
        await tx.query('delete from clients_assertion where expires_at < now()');
        const fresh = await tx.query(
          'insert into clients_assertion (client_id, jti, expires_at) values ($1, $2, to_timestamp($3)) on conflict do nothing returning jti',
          [client!.id, String(payload.jti), exp],
        );
        if (fresh.rows.length === 0) throw new ClientAuthError('invalid_grant', 'this assertion was used before');
        await tx.query('delete from clients_token where expires_at < now()');
        await tx.query(
          `insert into clients_token (token_hash, client_id, scopes, expires_at) values ($1, $2, $3, now() + interval '${TOKEN_SECONDS} seconds')`,
          [hashToken(token), client!.id, scopes],
        );
        await this.emit({ action: 'client.token', outcome: 'success', client: { id: client!.id, name: client!.name }, scopes, request, tx });
      });
      return { access_token: token, token_type: 'bearer', expires_in: TOKEN_SECONDS, scope: scopes.join(' ') };
    } catch (err) {
      if (err instanceof ClientAuthError) {
        await this.emit({
          action: 'client.token',
          outcome: 'denied',
          client: client ? { id: client.id, name: client.name } : undefined,
          reason: err.message,
          request,
        });
      }
      throw err;
    }
  }

  /** The client behind a bearer token, or null when it is no live token of an enabled client. */
  async authenticate(token: string): Promise<Who | null> {
    if (!isWellFormedToken(token)) return null;
    const r = await this.db.query<{ id: string; name: string; scopes: string[] }>(
      `select c.id, c.name, t.scopes from clients_token t join clients_registration c on c.id = t.client_id
       where t.token_hash = $1 and t.expires_at > now() and not c.disabled`,
      [hashToken(token)],
    );
    const row = r.rows[0];
    if (!row) return null;
    return { accountId: `client:${row.id}`, username: `client:${row.name}`, roles: [], client: { id: row.id, scopes: row.scopes } };
  }
}

interface ClientRow {
  id: string;
  name: string;
  jwks: unknown;
  scopes: string[];
  disabled: boolean;
  created_at: Date;
}

function summary(row: ClientRow): ClientSummary {
  const keys = (row.jwks as { keys?: unknown[] }).keys?.length ?? 0;
  return { id: row.id, name: row.name, scopes: row.scopes, disabled: row.disabled, createdAt: new Date(row.created_at).toISOString(), keys };
}

/** The requested scopes, each of which must be registered; all registered ones when none is asked. */
/**
 * The scopes a token carries: exactly those asked for, each within what the client is registered
 * for (SMART v1 and v2 forms alike: `system/Patient.read` is `system/Patient.rs`; a client registered
 * for `system/*.read` may ask for `system/Patient.rs`). Nothing asked, nothing granted: refused,
 * rather than handed every registered scope.
 */
function grantedScopes(requested: string | undefined, registered: string[]): string[] {
  if (!requested || requested.trim() === '') throw new ClientAuthError('invalid_scope', 'scope is required: ask for the scopes this request needs');
  const asked = [...new Set(requested.trim().split(/\s+/))];
  const refused = asked.filter((s) => !scopeWithin(s, registered));
  if (refused.length > 0) throw new ClientAuthError('invalid_scope', `not registered for this client: ${refused.join(' ')}`);
  return asked;
}

/** A JWK Set of public keys only: a private key sent by mistake is refused, never stored. */
function publicKeySet(input: unknown): JSONWebKeySet {
  const keys = (input as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new ClientInputError('the JWKS must be {"keys": [...]} with at least one key');
  for (const k of keys) {
    if (!k || typeof k !== 'object' || typeof (k as { kty?: unknown }).kty !== 'string') throw new ClientInputError('each key needs a kty');
    if ('d' in k || 'p' in k || 'q' in k || 'k' in k) throw new ClientInputError('the JWKS holds a private or symmetric key: register public keys only');
  }
  return { keys } as JSONWebKeySet;
}
