/**
 * The console's one way to the server: bearer token in memory (and sessionStorage, so a reload
 * keeps the session but closing the tab ends it), JSON in and out, errors as readable text.
 *
 * Every answer the console uses is checked against its route's shape before a screen sees it: the
 * shapes are the server's own route schemas (src/api); a FHIR answer is checked for the resource
 * type asked for and, of the types the screens show, for the elements they read (src/api/fhir.ts). An answer of another shape is a ShapeError with a sentence for the
 * user, not a screen that breaks on a missing field.
 */
import type { ExtractResource, ResourceType } from '@medplum/fhirtypes';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ApiErrorBody, checkShape, FhirResource, FhirSearchset } from '../../src/api/index.js';

export { ShapeError } from '../../src/api/index.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

let token: string | null = sessionStorage.getItem('carewall.token');
let onUnauthorized: () => void = () => undefined;

export function setToken(t: string | null): void {
  token = t;
  if (t) sessionStorage.setItem('carewall.token', t);
  else sessionStorage.removeItem('carewall.token');
}
export const hasToken = () => token !== null;
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

/** Activity seen by the idle timer: every call to the server counts, as it does for the server. */
export const activity = { last: Date.now() };

/** The FHIR API's errors: an OperationOutcome, whose first diagnostics say what went wrong. */
const Outcome = Type.Object({ resourceType: Type.Literal('OperationOutcome'), issue: Type.Array(Type.Object({ diagnostics: Type.Optional(Type.String()) })) });

function messageOf(body: unknown, status: number): string {
  if (Value.Check(ApiErrorBody, body)) return body.error;
  if (Value.Check(Outcome, body) && body.issue[0]?.diagnostics) return body.issue[0].diagnostics;
  return `the server answered ${status}`;
}

interface Init {
  method?: string;
  body?: unknown;
  /** A file sent as it is (a reported message), with its media type, instead of JSON. */
  file?: { bytes: Blob; type: string };
}

/** The answer's body (JSON parsed, else its text), or an ApiError for an answer that is not 2xx. */
async function request(path: string, init: Init = {}): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json, application/fhir+json, text/plain' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = path.startsWith('/fhir') ? 'application/fhir+json' : 'application/json';
  if (init.file) headers['content-type'] = init.file.type;
  const res = await fetch(path, {
    method: init.method ?? (init.body === undefined && !init.file ? 'GET' : 'POST'),
    headers,
    body: init.file ? init.file.bytes : init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  activity.last = Date.now();
  if (res.status === 401 && token) {
    setToken(null);
    onUnauthorized();
  }
  const raw = res.status === 204 ? '' : await res.text();
  let body: unknown = raw;
  if (raw && (res.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(raw);
    } catch {
      // Said as a shape problem by whoever expected JSON; as an error, by its status.
    }
  }
  if (!res.ok) throw new ApiError(res.status, messageOf(body, res.status), body);
  return body;
}

/** Names a route for the user without its query string (which may name a patient). */
const routeOf = (path: string) => path.split('?')[0];

/** A GET whose answer is `shape` (a route schema of src/api), checked. */
export async function get<S extends TSchema>(shape: S, path: string): Promise<Static<S>> {
  return checkShape(shape, await request(path), routeOf(path));
}

/** A POST (with `body`, if any) whose answer is `shape`, checked. */
export async function post<S extends TSchema>(shape: S, path: string, body?: unknown): Promise<Static<S>> {
  return checkShape(shape, await request(path, { method: 'POST', body }), routeOf(path));
}

/** A POST of a file as it is (`type` its media type), whose answer is `shape`, checked. */
export async function postFile<S extends TSchema>(shape: S, path: string, bytes: Blob, type: string): Promise<Static<S>> {
  return checkShape(shape, await request(path, { file: { bytes, type } }), routeOf(path));
}

/** A request whose answer the console does not use (204s, and answers it only waits for). */
export async function send(path: string, init: Init = {}): Promise<void> {
  await request(path, { method: init.method ?? 'POST', body: init.body });
}

/** A file as it was stored (an attestation's evidence): its bytes and the name it was given, for the browser to save. */
export async function getFile(path: string): Promise<{ blob: Blob; name: string }> {
  const res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  activity.last = Date.now();
  if (!res.ok) throw new ApiError(res.status, messageOf(await res.json().catch(() => undefined), res.status), undefined);
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'evidence';
  return { blob: await res.blob(), name };
}

/** A plain-text answer (the signed checkpoint). */
export async function getText(path: string): Promise<string> {
  const body = await request(path);
  if (typeof body !== 'string') throw new ApiError(200, `the server's answer to ${routeOf(path)} is not text`);
  return body;
}

/**
 * One FHIR resource of `type`, checked: its resource type, and the elements the screens read with
 * their R4 datatypes (src/api/fhir.ts). Typed as the server types it (@medplum/fhirtypes): the rest
 * of its content is FHIR R4 that the server validated when it was written.
 */
export async function fhirRead<K extends ResourceType>(type: K, path: string): Promise<ExtractResource<K>> {
  return checkShape(FhirResource(type), await request(path), routeOf(path)) as ExtractResource<K>;
}

/** A resource created (POST /fhir/<type>), as the server stored it. */
export async function fhirCreate<K extends ResourceType>(type: K, resource: ExtractResource<K>): Promise<ExtractResource<K>> {
  return checkShape(FhirResource(type), await request(`/fhir/${type}`, { body: resource }), `/fhir/${type}`) as ExtractResource<K>;
}

/** A search: a searchset Bundle whose entries are all of `type`. */
export async function fhirSearch<K extends ResourceType>(type: K, path: string): Promise<{ total?: number; resources: Array<ExtractResource<K>> }> {
  const bundle = checkShape(FhirSearchset(type), await request(path), routeOf(path));
  return { total: bundle.total, resources: (bundle.entry ?? []).map((e) => e.resource as ExtractResource<K>) };
}

export const nameOf = (n?: Array<{ family?: string; given?: string[]; text?: string }>) =>
  n?.[0] ? (n[0].text ?? [n[0].given?.join(' '), n[0].family].filter(Boolean).join(' ')) : '(no name)';
