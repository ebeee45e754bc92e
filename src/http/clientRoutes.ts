/**
 * SMART Backend Services for system clients: discovery (`/.well-known/smart-configuration`) and the
 * token endpoint (`POST /auth/token`, client credentials with a `private_key_jwt` assertion), a thin
 * shell over clients/service.ts. Errors follow RFC 6749 section 5.2.
 */
import type { FastifyInstance } from 'fastify';
import { ClientAuthError, type TokenRequest } from '../clients/index.js';
import type { Carewall } from '../runtime.js';
import { requestDetails } from './server.js';

const TOKEN_PATH = '/auth/token';

export async function registerClientRoutes(app: FastifyInstance, cw: Pick<Carewall, 'clients' | 'settings'>): Promise<void> {
  // The configured address, never the request's Host header: an assertion made for another server
  // must not be accepted here because its sender named that server as the host.
  const tokenUrl = () => (cw.settings.publicUrl ? `${cw.settings.publicUrl}${TOKEN_PATH}` : undefined);

  // Discovery at the server's root and at the FHIR base, where SMART clients look for it.
  for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration'])
    app.get(path, async (_req, reply) => {
      if (!tokenUrl()) return reply.status(503).send(NOT_CONFIGURED);
      return discovery(tokenUrl()!);
    });

  app.post<{ Body: TokenRequest }>(TOKEN_PATH, async (req, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const audience = tokenUrl();
    if (!audience) return reply.status(503).send(NOT_CONFIGURED);
    const body = req.body && typeof req.body === 'object' ? req.body : {};
    try {
      return await cw.clients.exchange(body, audience, requestDetails(req));
    } catch (err) {
      if (!(err instanceof ClientAuthError)) throw err;
      return reply.status(err.code === 'invalid_client' ? 401 : 400).send({ error: err.code, error_description: err.message });
    }
  });
}

const NOT_CONFIGURED = {
  error: 'temporarily_unavailable',
  error_description:
    "this server's public address is not configured (carewall.json publicUrl, or carewall init --public-url): client assertions cannot be checked",
};

function discovery(tokenEndpoint: string) {
  return {
    token_endpoint: tokenEndpoint,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384', 'RS256', 'ES256', 'PS384', 'EdDSA'],
    grant_types_supported: ['client_credentials'],
    scopes_supported: ['system/*.read', 'system/*.write', 'system/*.rs', 'system/*.cruds'],
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
  };
}
