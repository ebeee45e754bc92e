/** Runtime settings: defaults, overridden by DATA_DIR/carewall.json, overridden by the environment. */
import fs from 'node:fs';
import path from 'node:path';

export interface Settings {
  dataDir: string;
  databaseUrl?: string;
  /** DATABASE_LISTEN_URL: session connections for LISTEN when DATABASE_URL is a transaction pooler (docs/scale-out.md). */
  databaseListenUrl?: string;
  /** DATABASE_REPLICA_URL: a streaming replica for searches and histories (docs/scale-out.md). */
  databaseReplicaUrl?: string;
  /** DATABASE_POOLER=transaction: DATABASE_URL is a transaction-pooling PgBouncer (docs/scale-out.md). */
  databasePooler?: 'transaction';
  /** Minutes without a request before a session ends. */
  sessionIdleMinutes: number;
  /** Hours after login after which a session ends regardless of use. */
  sessionMaxHours: number;
  /** Failed logins after which an account is locked for a while (doubling each further failure). */
  lockoutThreshold: number;
  lockoutBaseMinutes: number;
  /** Failed sign-ins from one address (any user names) within the window after which it is refused for a window. */
  loginAddressFailures: number;
  loginAddressWindowMinutes: number;
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: number;
  /** Seconds within which a request (headers and body) must have arrived whole; 408 after. */
  requestTimeoutSeconds: number;
  /** Demo installations have known passwords and may only listen on loopback. */
  demo: boolean;
  /**
   * The address clients reach this server at (https://carewall.clinic.example), set at install:
   * what a system client's signed assertion must name as its audience. Never taken from a request's
   * Host header, which the sender chooses.
   */
  publicUrl?: string;
  /**
   * Addresses of the TLS proxies in front (e.g. ["127.0.0.1"]): their X-Forwarded-For names the
   * caller's address, which the audit log records and the sign-in throttle counts by. Unset: none.
   */
  trustProxy?: string[];
  /** Care-relationship access rules (issue #3); see docs/access.md. */
  access: AccessSettings;
  /** The audit log's checkpoints (issue #4); see docs/audit.md. */
  audit: AuditSettings;
  /** Staff awareness (issue 26); see docs/awareness.md. */
  awareness?: AwarenessSettings;
}

/**
 * carewall.json's `awareness` object as written: the awareness capability reads and checks it
 * (src/awareness/settings.ts), at start and for `carewall awareness triage`.
 */
export interface AwarenessSettings {
  /** The clinic's own and its suppliers' mail domains: what triage of reported mail protects against imitation. */
  domains?: string[];
  [setting: string]: unknown;
}

export interface AuditSettings {
  /** How often a new signed checkpoint is issued while records arrive, in seconds (0: only on demand). */
  intervalSeconds: number;
  /** C2SP tlog-witness base URLs that receive each new checkpoint (POST <url>/add-checkpoint). */
  witnesses: string[];
}

export const DEFAULT_AUDIT: AuditSettings = { intervalSeconds: 5, witnesses: [] };

export interface AccessSettings {
  /** Days after an encounter ends during which its participants keep access (follow-up). */
  encounterFollowUpDays: number;
  /** Hours before a booked appointment starts, and after it ends, during which its participants have access. */
  appointmentHoursBefore: number;
  appointmentHoursAfter: number;
  /** Length of a break-the-glass grant, and of a privacy officer's investigation. */
  breakGlassMinutes: number;
  investigationMinutes: number;
  /** Roles that may break the glass: roles that never see clinical data cannot. */
  breakGlassRoles: string[];
  /** Whether an emergency grant also shows sensitive categories (it shows them to a direct carer only otherwise). */
  breakGlassRevealsSensitive: boolean;
  /** Sensitive categories (HL7 codes such as PSY, HIV) each role may see, over a direct care relationship. */
  sensitiveByRole: Record<string, string[]>;
  /** Sensitive categories the members of a department ('Organization/<id>') may see, over a direct care relationship. */
  sensitiveByDepartment: Record<string, string[]>;
  /** URLs that receive a JSON POST (no patient data) when someone breaks the glass. */
  notifyWebhooks: string[];
}

export const DEFAULT_ACCESS: AccessSettings = {
  encounterFollowUpDays: 30,
  appointmentHoursBefore: 72,
  appointmentHoursAfter: 24,
  breakGlassMinutes: 60,
  investigationMinutes: 120,
  breakGlassRoles: ['physician', 'nurse'],
  breakGlassRevealsSensitive: true,
  sensitiveByRole: { physician: ['HIV', 'STD', 'SEX', 'SDV', 'GDIS', 'SCA'], nurse: [] },
  sensitiveByDepartment: {},
  notifyWebhooks: [],
};

export const SETTINGS_FILE = 'carewall.json';

/** Where the CLI looks when --data-dir is not given. */
export const DEFAULT_DATA_DIR = process.env.CAREWALL_DATA_DIR ?? './carewall-data';

const DEFAULTS: Omit<Settings, 'dataDir'> = {
  sessionIdleMinutes: 15,
  sessionMaxHours: 12,
  lockoutThreshold: 5,
  lockoutBaseMinutes: 1,
  loginAddressFailures: 30,
  loginAddressWindowMinutes: 15,
  bodyLimitBytes: 8 * 1024 * 1024,
  requestTimeoutSeconds: 60,
  demo: false,
  access: DEFAULT_ACCESS,
  audit: DEFAULT_AUDIT,
};

export function loadSettings(dataDir: string, env: NodeJS.ProcessEnv = process.env): Settings {
  const file = path.join(dataDir, SETTINGS_FILE);
  const stored = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as StoredSettings) : {};
  return {
    ...DEFAULTS,
    ...stored,
    // Nested: a carewall.json that sets one access option keeps the defaults of the others.
    access: checkAccessSettings({ ...DEFAULT_ACCESS, ...stored.access }),
    ...(stored.publicUrl !== undefined ? { publicUrl: checkPublicUrl(stored.publicUrl) } : {}),
    audit: checkAuditSettings({ ...DEFAULT_AUDIT, ...stored.audit }),
    dataDir: path.resolve(dataDir),
    databaseUrl: env.DATABASE_URL || undefined,
    databaseListenUrl: env.DATABASE_LISTEN_URL || undefined,
    databaseReplicaUrl: env.DATABASE_REPLICA_URL || undefined,
    databasePooler: checkPooler(env.DATABASE_POOLER),
  };
}

/** DATABASE_POOLER: unset (a direct connection, or PgBouncer in session mode) or 'transaction'. */
export function checkPooler(value: string | undefined): 'transaction' | undefined {
  if (!value || value === 'session') return undefined;
  if (value === 'transaction') return 'transaction';
  throw new Error("DATABASE_POOLER must be 'transaction' (PgBouncer's transaction pooling) or 'session', or unset");
}

/** What carewall.json may hold: any setting, nested access settings partially. */
export type StoredSettings = Partial<
  Omit<Settings, 'dataDir' | 'databaseUrl' | 'databaseListenUrl' | 'databaseReplicaUrl' | 'databasePooler' | 'access' | 'audit'>
> & {
  access?: Partial<AccessSettings>;
  audit?: Partial<AuditSettings>;
};

/** An absolute http(s) URL without query or fragment, kept without a trailing slash. */
export function checkPublicUrl(value: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password) {
    throw new Error(`${SETTINGS_FILE}: publicUrl must be the server's absolute http(s) address, without query or fragment (https://carewall.example.org)`);
  }
  return url.toString().replace(/\/+$/, '');
}

export function checkAuditSettings(a: AuditSettings): AuditSettings {
  if (typeof a.intervalSeconds !== 'number' || !Number.isFinite(a.intervalSeconds) || a.intervalSeconds < 0) {
    throw new Error(`${SETTINGS_FILE}: audit.intervalSeconds must be a number of at least 0`);
  }
  if (!Array.isArray(a.witnesses) || a.witnesses.some((u) => typeof u !== 'string' || !/^https?:\/\//.test(u))) {
    throw new Error(`${SETTINGS_FILE}: audit.witnesses must be a list of http(s) URLs`);
  }
  return a;
}

/** A mistyped carewall.json stops the start with a message naming the setting, not a failure later. */
export function checkAccessSettings(a: AccessSettings): AccessSettings {
  const fail = (name: string, what: string) => {
    throw new Error(`${SETTINGS_FILE}: access.${name} must be ${what}`);
  };
  for (const name of ['encounterFollowUpDays', 'appointmentHoursBefore', 'appointmentHoursAfter', 'breakGlassMinutes', 'investigationMinutes'] as const) {
    if (typeof a[name] !== 'number' || !Number.isFinite(a[name]) || a[name] < 0) fail(name, 'a number of at least 0');
  }
  if (typeof a.breakGlassRevealsSensitive !== 'boolean') fail('breakGlassRevealsSensitive', 'true or false');
  if (!Array.isArray(a.breakGlassRoles) || a.breakGlassRoles.some((r) => typeof r !== 'string')) fail('breakGlassRoles', 'a list of role names');
  if (!Array.isArray(a.notifyWebhooks) || a.notifyWebhooks.some((u) => typeof u !== 'string' || !/^https?:\/\//.test(u)))
    fail('notifyWebhooks', 'a list of http(s) URLs');
  for (const name of ['sensitiveByRole', 'sensitiveByDepartment'] as const) {
    const m = a[name];
    if (!m || typeof m !== 'object' || Object.values(m).some((v) => !Array.isArray(v) || v.some((c) => typeof c !== 'string')))
      fail(name, 'an object of lists of category codes');
  }
  return a;
}

export function writeSettings(dataDir: string, values: StoredSettings): void {
  fs.writeFileSync(path.join(dataDir, SETTINGS_FILE), JSON.stringify(values, null, 2) + '\n', { mode: 0o600 });
}

export function isInitialised(dataDir: string): boolean {
  return fs.existsSync(path.join(dataDir, SETTINGS_FILE));
}
