/** The clients module's tables: registered system clients, the assertions they have used, their tokens. */
import type { Migration } from '../db/index.js';

export const clientMigrations: Migration[] = [
  {
    module: 'clients',
    version: 1,
    description: 'SMART Backend Services clients: registrations (JWKS, scopes), used assertion ids, access tokens',
    sql: `
      create table clients_registration (
        id text primary key,
        name text not null unique,
        -- the client's public keys (a JWK Set); its private keys never reach Carewall
        jwks jsonb not null,
        scopes text[] not null,
        disabled boolean not null default false,
        created_at timestamptz not null default now(),
        disabled_at timestamptz);

      -- Assertion ids (jti) seen, kept until the assertion expires: a replayed assertion is refused.
      create table clients_assertion (
        client_id text not null references clients_registration (id),
        jti text not null,
        expires_at timestamptz not null,
        primary key (client_id, jti));

      -- SHA-256 of each access token, as for people's sessions.
      create table clients_token (
        token_hash bytea primary key,
        client_id text not null references clients_registration (id),
        scopes text[] not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null);
      create index clients_token_client on clients_token (client_id);
    `,
  },
];
