/**
 * SMART Backend Services for system clients: discovery (`/.well-known/smart-configuration`) and the
 * token endpoint (`POST /auth/token`, client credentials with a `private_key_jwt` assertion), a thin
 * shell over clients/service.ts. Errors follow RFC 6749 section 5.2.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ClientAuthError, type TokenRequest } from '../clients/index.js';
import type { Carewall } from '../runtime.js';

const TOKEN_PATH = '/auth/token';

export async function registerClientRoutes(app: FastifyInstance, cw: Carewall): Promise<void> {
  const tokenUrl = (req: FastifyRequest) => `${req.protocol}://${req.host}${TOKEN_PATH}`;

  app.get('/.well-known/smart-configuration', async (req) => ({
    token_endpoint: tokenUrl(req),
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384', 'RS256', 'ES256', 'PS384', 'EdDSA'],
    grant_types_supported: ['client_credentials'],
    scopes_supported: ['system/*.read', 'system/*.write', 'system/*.rs', 'system/*.cruds'],
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
  }));

  app.post<{ Body: TokenRequest }>(TOKEN_PATH, async (req, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const body = req.body && typeof req.body === 'object' ? req.body : {};
    try {
      return await cw.clients.exchange(body, tokenUrl(req));
    } catch (err) {
      if (!(err instanceof ClientAuthError)) throw err;
      return reply.status(err.code === 'invalid_client' ? 401 : 400).send({ error: err.code, error_description: err.message });
    }
  });
}
