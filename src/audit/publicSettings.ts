import crypto from 'node:crypto';

/**
 * Settings as recorded, one entry per setting by its dotted path (`access.breakGlassMinutes`):
 * everything but the data folder, and the database addresses (which may hold a password) only as a
 * digest.
 */
export function publicSettings(settings: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (prefix: string, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value) && prefix.split('.').length < 2) {
      for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
    } else if (value !== undefined) out[prefix] = value;
  };
  for (const [k, v] of Object.entries(settings)) {
    // Connection strings may hold a password: recorded only as a digest (a change still shows).
    if (k === 'databaseUrl' || k === 'databaseListenUrl' || k === 'databaseReplicaUrl')
      out[k] = v ? `sha256:${crypto.createHash('sha256').update(String(v)).digest('hex').slice(0, 16)}` : null;
    else if (k !== 'dataDir') walk(k, v);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
