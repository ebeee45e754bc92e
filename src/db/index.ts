/** The public surface of db: other folders import only from here. */
export { openDatabase, toBuffer } from './database.js';
export type { Database, Queryable, Statement } from './database.js';
export { DatabaseUnavailableError, classifyDatabaseError, fromDatabaseAway } from './errors.js';
export { migrate } from './migrations.js';
export type { Migration } from './migrations.js';
export { bindPacked } from './packedBytes.js';
export { retryWhileAway } from './retry.js';
export { bindTo } from './sqlParams.js';
export { WriteBatch } from './writeBatch.js';
