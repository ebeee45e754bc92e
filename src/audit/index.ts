export { AuditService } from './service.js';
export { auditMigrations } from './schema.js';
export { AuditUnavailableError } from './log.js';
export { withRequest } from './context.js';
export { verifyLog, type VerifyReport, type VerifyProblem } from './verify.js';
export { parseAuditSearch, toAuditEvent } from './balp.js';
export { decodeLeaf } from './record.js';
export type { AuditRecord } from './record.js';
