export { AuditService } from './service.js';
export { auditMigrations } from './schema.js';
export { AuditUnavailableError } from './log.js';
export { verifyLog, type VerifyReport, type VerifyProblem } from './verify.js';
export { parseAuditSearch, toAuditEvent } from './balp.js';
export { auditUser, decodeLeaf } from './record.js';
export { C2SP_TILE_WIDTH, parseTilePath, tilePath, type TilePath } from './tlogTiles.js';
export type { AuditRecord } from './record.js';
