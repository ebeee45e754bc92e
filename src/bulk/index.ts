export { importFiles, ImportError, type ImportSummary, type ImportedFile } from './import.js';
export { BulkExports, type ExportJob, type ExportLevel, type ExportRequest, type ExportStatus } from './export.js';
export { bulkMigrations } from './exportSchema.js';
export { prefersLenient, UNSUPPORTED_EXPORT_PARAMETERS } from './lenient.js';
