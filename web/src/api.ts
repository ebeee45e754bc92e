/**
 * The console's one way to the server: bearer token in memory (and sessionStorage, so a reload
 * keeps the session but closing the tab ends it), JSON in and out, errors as readable text.
 */
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

function messageOf(body: unknown, status: number): string {
  if (body && typeof body === 'object') {
    const b = body as { error?: string; issue?: Array<{ diagnostics?: string }> };
    if (typeof b.error === 'string') return b.error;
    const d = b.issue?.[0]?.diagnostics;
    if (d) return d;
  }
  return `the server answered ${status}`;
}

export async function api<T = unknown>(path: string, init: { method?: string; body?: unknown; text?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json, application/fhir+json, text/plain' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = path.startsWith('/fhir') ? 'application/fhir+json' : 'application/json';
  const res = await fetch(path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  activity.last = Date.now();
  if (res.status === 401 && token) {
    setToken(null);
    onUnauthorized();
  }
  if (res.status === 204) return undefined as T;
  const raw = await res.text();
  if (init.text && res.ok) return raw as T;
  let body: unknown;
  try {
    body = raw ? JSON.parse(raw) : undefined;
  } catch {
    body = raw;
  }
  if (!res.ok) throw new ApiError(res.status, messageOf(body, res.status), body);
  return body as T;
}

export interface Me {
  username: string;
  roles: string[];
  practitioner: string | null;
  idleMinutes: number;
}

export interface HumanName {
  family?: string;
  given?: string[];
  text?: string;
}
export const nameOf = (n?: HumanName[]) => (n?.[0] ? (n[0].text ?? [n[0].given?.join(' '), n[0].family].filter(Boolean).join(' ')) : '(no name)');

export interface Bundle<T> {
  total?: number;
  entry?: Array<{ resource: T }>;
}
export const resources = <T>(b: Bundle<T>): T[] => (b.entry ?? []).map((e) => e.resource);
