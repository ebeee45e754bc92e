/** From a repository address (carewall.json `backup.repository`) to its backend. */
import path from 'node:path';
import { HttpBackend, LocalBackend, type Backend } from './backend.js';

export interface BackendAuth {
  /** Bearer token for a vault. */
  token?: string;
}

export async function openBackend(address: string, auth: BackendAuth = {}, baseDir = process.cwd()): Promise<Backend> {
  if (/^https?:\/\//.test(address)) {
    if (!auth.token) throw new Error('a vault repository needs a credential (--token-stdin at init, kept in backup.key)');
    return new HttpBackend(address, auth.token);
  }
  if (address.startsWith('s3://')) {
    const { S3Backend } = await import('./s3.js');
    return S3Backend.fromAddress(address);
  }
  return new LocalBackend(path.resolve(baseDir, address.replace(/^file:\/\//, '')));
}

export async function createBackend(address: string, auth: BackendAuth = {}): Promise<Backend> {
  if (/^https?:\/\//.test(address) || address.startsWith('s3://')) return openBackend(address, auth);
  return LocalBackend.create(path.resolve(address.replace(/^file:\/\//, '')));
}
