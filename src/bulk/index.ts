export { importFiles, ImportError, type ImportSummary, type ImportedFile } from './import.js';
