/** Runtime settings: defaults, overridden by DATA_DIR/carewall.json, overridden by the environment. */
import fs from 'node:fs';
import path from 'node:path';

export interface Settings {
  dataDir: string;
  databaseUrl?: string;
  /** Minutes without a request before a session ends. */
  sessionIdleMinutes: number;
  /** Hours after login after which a session ends regardless of use. */
  sessionMaxHours: number;
  /** Failed logins after which an account is locked for a while (doubling each further failure). */
  lockoutThreshold: number;
  lockoutBaseMinutes: number;
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: number;
  /** Demo installations have known passwords and may only listen on loopback. */
  demo: boolean;
}

export const SETTINGS_FILE = 'carewall.json';

/** Where the CLI looks when --data-dir is not given. */
export const DEFAULT_DATA_DIR = process.env.CAREWALL_DATA_DIR ?? './carewall-data';

const DEFAULTS: Omit<Settings, 'dataDir'> = {
  sessionIdleMinutes: 15,
  sessionMaxHours: 12,
  lockoutThreshold: 5,
  lockoutBaseMinutes: 1,
  bodyLimitBytes: 8 * 1024 * 1024,
  demo: false,
};

export function loadSettings(dataDir: string, env: NodeJS.ProcessEnv = process.env): Settings {
  const file = path.join(dataDir, SETTINGS_FILE);
  const stored = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Settings>) : {};
  return {
    ...DEFAULTS,
    ...stored,
    dataDir: path.resolve(dataDir),
    databaseUrl: env.DATABASE_URL || undefined,
  };
}

export function writeSettings(dataDir: string, values: Partial<Omit<Settings, 'dataDir' | 'databaseUrl'>>): void {
  fs.writeFileSync(path.join(dataDir, SETTINGS_FILE), JSON.stringify(values, null, 2) + '\n', { mode: 0o600 });
}

export function isInitialised(dataDir: string): boolean {
  return fs.existsSync(path.join(dataDir, SETTINGS_FILE));
}
